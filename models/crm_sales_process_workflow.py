# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .workflow_diagram import render_svg


class CrmSalesProcessWorkflow(models.Model):
    _name = "crm.sales.process.workflow"
    _description = "Sales Process Workflow"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Html(translate=True)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to share the workflow between companies.",
    )
    step_ids = fields.One2many("crm.sales.process.step", "workflow_id", string="Steps", copy=False)
    transition_ids = fields.One2many(
        "crm.sales.process.transition",
        "workflow_id",
        string="Transitions",
        copy=False,
    )
    team_ids = fields.One2many("crm.team", "sales_process_workflow_id", string="Sales Teams")
    process_count = fields.Integer(compute="_compute_process_count")
    auto_start_summary = fields.Char(
        "Starts by Itself",
        compute="_compute_auto_start_summary",
        help="The channels of this workflow that start a process for every new lead or opportunity.",
    )
    diagram = fields.Html(
        compute="_compute_diagram",
        sanitize=False,
        help="The steps as boxes and the transitions as labelled arrows; final steps have a double border.",
    )
    problems = fields.Text(
        compute="_compute_problems",
        help="What to fix before a sales channel can use this workflow.",
    )

    def _compute_process_count(self):
        counts = dict(
            self.env["crm.sales.process"]._read_group([("workflow_id", "in", self.ids)], ["workflow_id"], ["__count"])
        )
        for workflow in self:
            workflow.process_count = counts.get(workflow, 0)

    @api.depends(
        "team_ids.channel_type",
        "team_ids.sales_process_auto_start_lead",
        "team_ids.sales_process_auto_start_opportunity",
    )
    def _compute_auto_start_summary(self):
        for workflow in self:
            teams = workflow.team_ids.filtered(lambda team: team.channel_type == "b2b")
            parts = []
            for team in teams:
                kinds = [
                    label
                    for enabled, label in (
                        (team.sales_process_auto_start_lead, self.env._("new leads")),
                        (team.sales_process_auto_start_opportunity, self.env._("new opportunities")),
                    )
                    if enabled
                ]
                if kinds:
                    parts.append(
                        self.env._("%(team)s: %(records)s", team=team.name, records=self.env._(" and ").join(kinds))
                    )
            workflow.auto_start_summary = "; ".join(parts) or False

    @api.depends(
        "step_ids.name",
        "step_ids.sequence",
        "step_ids.is_final",
        "step_ids.outcome",
        "step_ids.record_type",
        "transition_ids.name",
        "transition_ids.sequence",
        "transition_ids.from_step_ids",
        "transition_ids.to_step_id",
        "transition_ids.button_style",
        "step_ids.activity_plan_id",
        "transition_ids.mail_template_id",
    )
    def _compute_diagram(self):
        for workflow in self:
            # labels are escaped by render_svg: the markup is safe to show
            workflow.diagram = Markup(render_svg(*workflow._diagram_data()))

    def _diagram_data(self):
        """(steps, transitions) as workflow_diagram takes them."""
        self.ensure_one()
        steps = self.step_ids.sorted(lambda s: (s.sequence, s.id))
        return (
            [
                {
                    "id": step.id,
                    "label": step.name or "",
                    "final": step.is_final,
                    "kind": step.record_type,
                    "outcome": step.outcome,
                    "plan": step.activity_plan_id
                    and self.env._(
                        'Activity plan "%(plan)s": %(activities)s',
                        plan=step.activity_plan_id.name,
                        activities=", ".join(
                            step.activity_plan_id.template_ids.mapped(lambda t: t.summary or t.activity_type_id.name)
                        ),
                    ),
                    "plan_badge": "\u2611 "
                    + self.env._("%(count)s activities", count=len(step.activity_plan_id.template_ids)),
                }
                for step in steps
            ],
            [
                {
                    # an envelope before the name of a transition that emails the customer
                    "label": ("\u2709 " if t.mail_template_id else "") + (t.name or ""),
                    "from": [s.id for s in t.from_step_ids if s in steps],
                    "to": t.to_step_id.id,
                    "style": t.button_style,
                }
                for t in self.transition_ids.sorted(lambda t: (t.sequence, t.id))
                if t.to_step_id in steps
            ],
        )

    @api.depends(
        "step_ids",
        "transition_ids",
        "step_ids.active",
        "transition_ids.active",
        "transition_ids.from_step_ids",
        "transition_ids.to_step_id",
    )
    def _compute_problems(self):
        for workflow in self:
            workflow.problems = "\n".join(workflow._structure_problems()) or False

    def _structure_problems(self):
        """What keeps the workflow from being used, each with what to fix."""
        self.ensure_one()
        problems = []
        starts = self.transition_ids.filtered("is_start")
        if not starts:
            problems.append(
                self.env._(
                    'Add a start transition (no From Steps, effect "Start a process") so that processes can start.'
                )
            )
        reached = starts.to_step_id
        frontier = reached
        while frontier:
            following = self.transition_ids.filtered(lambda t, f=frontier: t.from_step_ids & f).to_step_id - reached
            reached |= following
            frontier = following
        for step in self.step_ids - reached:
            problems.append(
                self.env._(
                    'Step "%(step)s" cannot be reached from a start: add a transition that leads to it, or archive it.',
                    step=step.name,
                )
            )
        return problems

    def _is_in_use(self):
        self.ensure_one()
        return bool(
            self.team_ids.filtered(lambda team: team.channel_type == "b2b")
            or self.env["crm.sales.process"].search_count(
                [("workflow_id", "=", self.id), ("is_closed", "=", False)], limit=1
            )
        )

    def _check_in_use_usable(self):
        self.filtered(lambda w: w.active and w._is_in_use())._check_usable()

    def _check_usable(self):
        """Refuse an incomplete workflow where processes run or start."""
        for workflow in self:
            problems = workflow._structure_problems()
            if problems:
                raise ValidationError(
                    self.env._(
                        'The workflow "%(name)s" is used by sales channels or running '
                        "processes and must stay complete:\n%(problems)s\n"
                        "To change its structure, Duplicate the workflow, edit the copy, "
                        "then give it to the channels (and Move Processes).",
                        name=workflow.name,
                        problems="\n".join(problems),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        workflows = super().create(vals_list)
        workflows._check_in_use_usable()
        return workflows

    def write(self, vals):
        if vals.get("active") is False and self.team_ids:
            raise UserError(
                self.env._(
                    "Sales channels use this workflow (%(teams)s): give them another one before archiving it.",
                    teams=", ".join(self.team_ids.mapped("name")),
                )
            )
        result = super().write(vals)
        # drafts may be saved half-built (their form lists what is missing);
        # a workflow in use must stay complete
        self._check_in_use_usable()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_followed(self):
        if self.env["crm.sales.process"].sudo().search_count([("workflow_id", "in", self.ids)], limit=1):
            raise UserError(self.env._("Sales Processes follow this workflow: archive it instead of deleting it."))

    def copy_data(self, default=None):
        vals_list = super().copy_data(default)
        if "name" not in (default or {}):
            for workflow, vals in zip(self, vals_list, strict=False):
                vals["name"] = self.env._("%s (copy)", workflow.name)
        return vals_list

    def copy(self, default=None):
        """A deep copy: the steps and transitions are copied too, the
        transitions pointing to the copied steps. The copy is independent:
        editing it changes neither the original nor its processes."""
        copies = super().copy(default)
        for original, copy in zip(self, copies, strict=False):
            original = original.with_context(active_test=False)
            steps = original.step_ids
            new_steps = self.env["crm.sales.process.step"].create(
                [dict(vals, workflow_id=copy.id) for vals in steps.copy_data()]
            )
            step_map = dict(zip(steps, new_steps, strict=False))
            transitions = original.transition_ids
            vals_list = transitions.copy_data()
            for transition, vals in zip(transitions, vals_list, strict=False):
                vals.update(
                    workflow_id=copy.id,
                    from_step_ids=[fields.Command.set([step_map[s].id for s in transition.from_step_ids])],
                    to_step_id=step_map[transition.to_step_id].id,
                )
            self.env["crm.sales.process.transition"].create(vals_list)
        return copies

    @api.model
    def _get_default(self):
        """The workflow a B2B channel gets when it names none."""
        return self.env.ref("crm_sales_process.workflow_b2b", raise_if_not_found=False) or self.search([], limit=1)

    def _start_transition(self, record_type):
        """The start transition of this workflow for a lead or an opportunity."""
        self.ensure_one()
        return self.transition_ids.filtered(lambda t: t.effect == "start" and t.to_step_id.record_type == record_type)[
            :1
        ]

    @api.readonly
    def action_view_processes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_sales_process.crm_sales_process_action")
        action["domain"] = [("workflow_id", "=", self.id)]
        action["context"] = {"search_default_group_by_step": 1}
        return action

    @api.readonly
    def action_move_processes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Move Processes"),
            "res_model": "crm.sales.process.move",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_source_workflow_id": self.id},
        }

    @api.model
    def _link_default_stages(self):
        """Link the default workflow's opportunity steps to Odoo's stock stages.

        Called from data so that a database whose stock stages were deleted or
        renamed still installs: a missing stage simply leaves the link empty.
        """
        links = {
            "step_new_opportunity": "crm.stage_lead2",
            "step_developed_opportunity": "crm.stage_lead3",
            "step_won_opportunity": "crm.stage_lead4",
        }
        for step_xmlid, stage_xmlid in links.items():
            step = self.env.ref("crm_sales_process." + step_xmlid, raise_if_not_found=False)
            stage = self.env.ref(stage_xmlid, raise_if_not_found=False)
            if step and not step.stage_id and stage:
                if step.outcome == "won" and not stage.is_won:
                    continue
                step.stage_id = stage
