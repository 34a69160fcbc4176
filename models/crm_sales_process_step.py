# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmSalesProcessStep(models.Model):
    _name = "crm.sales.process.step"
    _description = "Sales Process Step"
    _order = "workflow_id, sequence, id"
    _fold_name = "is_final"  # final steps are folded in kanban views and statusbars

    workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        required=True,
        index=True,
        ondelete="cascade",
    )
    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Technical name, unique in its workflow; external clients rely on it.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    record_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Record",
        required=True,
        default="lead",
        help="Whether the process is about a lead or an opportunity in this step.",
    )
    outcome = fields.Selection(
        [("open", "Open"), ("won", "Won"), ("lost", "Lost")],
        required=True,
        default="open",
        help="The won/lost status Odoo gives the record in this step: a lost "
        "step holds lost (archived) records, a won step won ones.",
    )
    is_final = fields.Boolean("Final", help="The process is closed while it sits in this step.")
    readonly = fields.Boolean(
        "Read-only",
        help="Records in this step cannot be edited nor deleted, except by the transitions themselves.",
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Pipeline Stage",
        ondelete="set null",
        help="Opportunities entering this step are moved to this stage; a "
        "drag to this stage in the pipeline runs the transition into this step.",
    )
    guidance = fields.Html(translate=True, help="Shown on the lead form while the record is in this step.")
    max_days = fields.Integer(
        "Maximum Days",
        help="After this many days in the step, the owner gets an activity. 0 disables the reminder.",
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        domain=[("res_model", "=", "crm.lead")],
        ondelete="set null",
        help="Launched on the record of every process that enters this step (by any transition, "
        "a start, a reopen's new opportunity or a move from another workflow): its activities "
        "are due counting from the day of entry, assigned to the process owner unless the "
        "plan names someone.",
    )

    _code_uniq = models.Constraint("UNIQUE(workflow_id, code)", "A step code must be unique in its workflow.")

    @api.depends("name", "workflow_id")
    def _compute_display_name(self):
        show_workflow = self.env.context.get("sales_process_show_workflow")
        for step in self:
            step.display_name = f"{step.workflow_id.name} / {step.name}" if show_workflow else step.name

    def action_launch_activity_plan(self):
        """Launch the step's plan on the processes already in it: the form
        that opens says how many first."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Launch the Activity Plan"),
            "res_model": "crm.sales.process.plan.launch",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_step_id": self.id, "dialog_size": "medium"},
        }

    def write(self, vals):
        if vals.get("active") is False:
            busy = self.env["crm.sales.process"].search(
                [("step_id", "in", self.ids), ("is_closed", "=", False)], limit=1
            )
            if busy:
                raise UserError(
                    self.env._(
                        'Processes are running in step "%(step)s": move them to another step '
                        "(Move Processes) before archiving it.",
                        step=busy.step_id.name,
                    )
                )
        workflows = self.workflow_id
        result = super().write(vals)
        (workflows | self.workflow_id)._check_in_use_usable()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        steps = super().create(vals_list)
        steps.workflow_id._check_in_use_usable()
        return steps

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        process = self.env["crm.sales.process"].sudo().search([("step_id", "in", self.ids)], limit=1)
        log = (
            self.env["crm.sales.process.log"]
            .sudo()
            .search(["|", ("from_step_id", "in", self.ids), ("to_step_id", "in", self.ids)], limit=1)
        )
        lead = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search([("sales_process_step_id", "in", self.ids)], limit=1)
        )
        used = (process.step_id | log.from_step_id | log.to_step_id | lead.sales_process_step_id) & self
        if used:
            raise UserError(
                self.env._(
                    'Step "%(step)s" is used by Sales Processes or their log: archive it instead of deleting it.',
                    step=used[:1].name,
                )
            )

    def unlink(self):
        workflows = self.workflow_id
        result = super().unlink()
        workflows._check_in_use_usable()
        return result
