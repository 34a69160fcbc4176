# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models


class CrmSalesProcessLog(models.Model):
    _name = "crm.sales.process.log"
    _description = "Sales Process Transition Log"
    _order = "date desc, id desc"

    process_id = fields.Many2one(
        "crm.sales.process", required=True, index=True, ondelete="cascade", readonly=True
    )
    transition_id = fields.Many2one(
        "crm.sales.process.transition",
        ondelete="restrict",
        readonly=True,
        help="Empty for a move to another workflow (see the note).",
    )
    note = fields.Char(readonly=True)
    from_step_id = fields.Many2one(
        "crm.sales.process.step", string="From Step", ondelete="restrict", readonly=True
    )
    to_step_id = fields.Many2one(
        "crm.sales.process.step", string="To Step", ondelete="restrict", readonly=True
    )
    user_id = fields.Many2one("res.users", string="By", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True)
    values = fields.Json("Submitted Values", readonly=True)
    values_text = fields.Text("Values", compute="_compute_values_text")
    lead_id = fields.Many2one(
        "crm.lead", string="Record", ondelete="set null", readonly=True
    )
    new_lead_id = fields.Many2one(
        "crm.lead", string="Created Record", ondelete="set null", readonly=True
    )
    # the company of the process when the transition ran: a log line is
    # history, and a stored related field would cost a recompute per transition
    company_id = fields.Many2one("res.company", readonly=True, index=True)

    @api.depends("transition_id", "note")
    def _compute_display_name(self):
        for log in self:
            log.display_name = log.transition_id.name or log.note

    @api.depends("values")
    def _compute_values_text(self):
        form = self.env["crm.sales.process.transition.wizard"]
        for log in self:
            lines = []
            for key, value in (log.values or {}).items():
                field = form._fields.get(key)
                if value is None:
                    value = self.env._("(empty)")
                elif field and field.type == "many2one":
                    value = self.env[field.comodel_name].browse(value).exists().display_name or value
                lines.append(f"{field._description_string(self.env) if field else key}: {value}")
            log.values_text = "\n".join(lines)
