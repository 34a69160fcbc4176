# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict

from odoo import api, models
from odoo.tools.mail import email_split_and_format


class CrmSalesProcessEmail(models.AbstractModel):
    """The emails of the transitions (a transition's Email Template), sent to
    the customers when it runs; inherited by crm.sales.process.

    crm.sales.process._run calls _send_transition_emails after the new steps
    and the log, in its savepoint: a transition undone sends nothing."""

    _name = "crm.sales.process.email"
    _description = "Sales Process: Emails of the Transitions"

    def _send_transition_emails(self, plans, created):
        """Send each transition's email to the customer of the record its
        processes are about after it, unless the call turned it off
        (send_email: False), one batch per template."""
        by_template = defaultdict(lambda: self.env["crm.lead"])
        for process, plan in plans.items():
            template = plan["transition"].mail_template_id
            if template and plan["values"].get("send_email", True):
                by_template[template] |= created.get(process) or plan["record"]
        for template, records in by_template.items():
            self._send_email(template, records)

    @api.model
    def _send_email(self, template, records):
        """Odoo's mail composer in mass mail mode, queued (the mail queue sends
        after the commit: an undone transition sends nothing) and logged in
        the chatter of each record; a record without an address is left out
        and its chatter says so."""
        recipients = self._email_recipients(template, records)
        unaddressed = records.filtered(lambda record: not recipients[record.id])
        addressed = records - unaddressed
        if addressed:
            # Odoo's own way of mailing records with a template (crm's stage emails too)
            addressed.message_mail_with_source(template, force_send=False)
        if unaddressed:
            unaddressed._message_log_batch(
                bodies={
                    record.id: self.env._(
                        'The email "%(template)s" was not sent: %(customer)s has no email address.',
                        template=template.name,
                        customer=record._sales_process_customer_name(),
                    )
                    for record in unaddressed
                }
            )

    @api.model
    def _email_recipients(self, template, records):
        """{record id: the addresses the template sends to}, as Odoo's
        template finds them (the record's default recipients, or its own
        To and Cc), without rendering the email."""
        rendered = template._generate_template_recipients(records.ids, ["email_to", "partner_to", "email_cc"])
        result = {}
        for record in records:
            values = rendered.get(record.id, {})
            partners = self.env["res.partner"].browse(values.get("partner_ids") or []).filtered("email_normalized")
            emails = email_split_and_format(", ".join(filter(None, (values.get("email_to"), values.get("email_cc")))))
            result[record.id] = partners.mapped("email_formatted") + emails
        return result
