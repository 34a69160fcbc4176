# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmSalesProcessTransitionWizard(models.TransientModel):
    """The form of a transition. Its value fields carry the names, labels and
    types of the values ``run_transition`` takes (the engine reads them here);
    the form shows only those of the transition at hand."""

    _name = "crm.sales.process.transition.wizard"
    _description = "Sales Process Transition Form"

    process_ids = fields.Many2many("crm.sales.process", string="Sales Processes")
    transition_id = fields.Many2one("crm.sales.process.transition", required=True, readonly=True, ondelete="cascade")
    effect = fields.Selection(related="transition_id.effect")
    confirm_message = fields.Text(compute="_compute_confirm_message")
    value_keys = fields.Char(compute="_compute_value_keys")
    required_keys = fields.Char(compute="_compute_value_keys")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    # The values (DESIGN.md section 1), by the names external clients use.
    team_id = fields.Many2one("crm.team", string="Sales Channel", domain=[("channel_type", "=", "b2b")])
    user_id = fields.Many2one("res.users", string="Owner", domain=[("share", "=", False)])
    date_start = fields.Date("Start Date")
    opportunity_name = fields.Char()
    partner_id = fields.Many2one("res.partner", string="Customer")
    company_name = fields.Char()
    notes = fields.Html()
    reason = fields.Text()
    note = fields.Text()
    contact_id = fields.Many2one("res.partner")
    budget_amount = fields.Monetary("Budget", currency_field="currency_id")
    probability = fields.Float()
    customer_need = fields.Text()
    proposed_solution = fields.Text()
    close_revenue = fields.Monetary(currency_field="currency_id")
    close_date = fields.Date()
    lost_reason_id = fields.Many2one("crm.lost.reason")
    send_email = fields.Boolean("Send the Email", default=True)
    email_notice = fields.Text(compute="_compute_email_notice")

    @api.depends("transition_id", "process_ids", "send_email")
    def _compute_email_notice(self):
        """What the transition's email does: to whom it goes, or why it
        cannot go to someone."""
        for wizard in self:
            template = wizard.transition_id.mail_template_id
            records = wizard.process_ids.current_lead_id
            if not template or not records:
                wizard.email_notice = False
                continue
            if not wizard.send_email:
                wizard.email_notice = self.env._('The email "%(template)s" will not be sent.', template=template.name)
                continue
            recipients = self.env["crm.sales.process"]._email_recipients(template, records)
            unaddressed = records.filtered(lambda record, r=recipients: not r[record.id])
            if len(records) == 1 and not unaddressed:
                wizard.email_notice = self.env._(
                    'An email "%(template)s" will be sent to %(recipients)s.',
                    template=template.name,
                    recipients=", ".join(recipients[records.id]),
                )
            elif len(records) == 1:
                wizard.email_notice = self.env._(
                    'The email "%(template)s" cannot be sent: %(customer)s has no email address. '
                    "The transition runs all the same, and the chatter says the email was not sent.",
                    template=template.name,
                    customer=records._sales_process_customer_name(),
                )
            else:
                wizard.email_notice = self.env._(
                    'An email "%(template)s" will be sent to the customers of the %(count)s records.',
                    template=template.name,
                    count=len(records),
                )
                if unaddressed:
                    wizard.email_notice += " " + self.env._(
                        "%(count)s of them have no email address: their chatter will say the email was not sent.",
                        count=len(unaddressed),
                    )

    @api.depends("transition_id", "process_ids")
    def _compute_confirm_message(self):
        for wizard in self:
            wizard.confirm_message = wizard.transition_id._confirmation_text(wizard.process_ids)

    @api.depends("transition_id")
    def _compute_value_keys(self):
        for wizard in self:
            spec = wizard.transition_id._value_spec() if wizard.transition_id else {}
            # ",a,b,": the form tests "',key,' in value_keys", safe from keys
            # that are prefixes of others (note, notes)
            wizard.value_keys = f",{','.join(spec)},"
            wizard.required_keys = f",{','.join(k for k, req in spec.items() if req)},"

    @api.depends("process_ids")
    def _compute_currency_id(self):
        for wizard in self:
            wizard.currency_id = wizard.process_ids[:1].company_currency or self.env.company.currency_id

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        transition = self.env["crm.sales.process.transition"].browse(result.get("transition_id"))
        processes = self.env["crm.sales.process"].browse(self.env.context.get("default_process_ids") or [])
        if transition and len(processes) == 1:
            suggested = processes._suggested_values(transition)
            processes._complete_values(transition, suggested, processes.current_lead_id)
            result.update({k: v for k, v in suggested.items() if k in fields_list})
        elif transition:
            today = fields.Date.context_today(self)
            if transition.effect in ("close_won", "close_lost"):
                result.setdefault("close_date", today)
        return result

    @api.model
    def _open_for(self, processes, transition, ask_confirmation=False):
        """Run the transition at once when it takes no values, else open its
        form. A button asks its own confirmation (its confirm attribute); a
        kanban drag has none, so ``ask_confirmation`` opens the form to ask."""
        confirm = ask_confirmation and transition._confirmation_text(processes)
        if not transition._opens_form() and not confirm:
            return processes.run_transition(transition.code)
        return {
            "type": "ir.actions.act_window",
            "name": transition.name,
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_transition_id": transition.id,
                "default_process_ids": processes.ids,
                "dialog_size": "medium",
            },
        }

    def _submitted_values(self):
        """The form's values as a client would send them to run_transition:
        every value the form shows, a cleared field as empty (False), which
        the engine keeps empty or refuses, never replaces by its default."""
        self.ensure_one()
        values = {}
        for key in self.transition_id._value_spec():
            field = self._fields[key]
            value = self[key]
            if field.type == "many2one":
                value = value.id
            elif field.type == "date":
                value = fields.Date.to_string(value) if value else False
            values[key] = value
        return values

    def action_confirm(self):
        self.ensure_one()
        if not self.process_ids:
            raise UserError(self.env._("There is no Sales Process to move on."))
        result = self.process_ids.run_transition(self.transition_id.code, self._submitted_values())
        if isinstance(result, dict):
            return result
        return {"type": "ir.actions.act_window_close"}
