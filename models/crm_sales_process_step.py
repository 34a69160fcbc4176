# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models


class CrmSalesProcessStep(models.Model):
    _name = "crm.sales.process.step"
    _description = "Sales Process Step"
    _order = "workflow_id, sequence, id"

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
    is_final = fields.Boolean(
        "Final", help="The process is closed while it sits in this step."
    )
    readonly = fields.Boolean(
        "Read-only",
        help="Records in this step cannot be edited nor deleted, except by "
        "the transitions themselves.",
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Pipeline Stage",
        ondelete="set null",
        help="Opportunities entering this step are moved to this stage; a "
        "drag to this stage in the pipeline runs the transition into this step.",
    )
    guidance = fields.Html(
        translate=True, help="Shown on the lead form while the record is in this step."
    )
    max_days = fields.Integer(
        "Maximum Days",
        help="After this many days in the step, the owner gets an activity. "
        "0 disables the reminder.",
    )
    fold = fields.Boolean("Folded in Kanban", compute="_compute_fold", store=True)

    _code_uniq = models.Constraint(
        "UNIQUE(workflow_id, code)", "A step code must be unique in its workflow."
    )

    @api.depends("is_final")
    def _compute_fold(self):
        for step in self:
            step.fold = step.is_final

    @api.depends("name", "workflow_id")
    def _compute_display_name(self):
        show_workflow = self.env.context.get("sales_process_show_workflow")
        for step in self:
            step.display_name = (
                f"{step.workflow_id.name} / {step.name}" if show_workflow else step.name
            )
