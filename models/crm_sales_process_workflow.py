# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models


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
    step_ids = fields.One2many(
        "crm.sales.process.step", "workflow_id", string="Steps", copy=False
    )
    transition_ids = fields.One2many(
        "crm.sales.process.transition",
        "workflow_id",
        string="Transitions",
        copy=False,
    )
    team_ids = fields.One2many(
        "crm.team", "sales_process_workflow_id", string="Sales Teams"
    )
    process_count = fields.Integer(compute="_compute_process_count")

    def _compute_process_count(self):
        counts = dict(
            self.env["crm.sales.process"]._read_group(
                [("workflow_id", "in", self.ids)], ["workflow_id"], ["__count"]
            )
        )
        for workflow in self:
            workflow.process_count = counts.get(workflow, 0)

    @api.model
    def _get_default(self):
        """The workflow a B2B channel gets when it names none."""
        return self.env.ref(
            "crm_sales_process.workflow_b2b", raise_if_not_found=False
        ) or self.search([], limit=1)

    def _start_transition(self, record_type):
        """The start transition of this workflow for a lead or an opportunity."""
        self.ensure_one()
        return self.transition_ids.filtered(
            lambda t: t.effect == "start" and t.to_step_id.record_type == record_type
        )[:1]

    def action_view_processes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_sales_process.crm_sales_process_action"
        )
        action["domain"] = [("workflow_id", "=", self.id)]
        action["context"] = {"search_default_group_by_step": 1}
        return action

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
            step = self.env.ref(
                "crm_sales_process." + step_xmlid, raise_if_not_found=False
            )
            stage = self.env.ref(stage_xmlid, raise_if_not_found=False)
            if step and not step.stage_id and stage:
                if step.outcome == "won" and not stage.is_won:
                    continue
                step.stage_id = stage
