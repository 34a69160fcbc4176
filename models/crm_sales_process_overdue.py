# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

# Overdue processes reminded per committed batch of the daily cron.
REMIND_BATCH = 100


class CrmSalesProcessOverdue(models.AbstractModel):
    """The daily reminder of the processes that stay too long in a step
    (a step's Maximum Days), inherited by crm.sales.process."""

    _name = "crm.sales.process.overdue"
    _description = "Sales Process: Overdue Reminders"

    @api.model
    def _cron_remind_overdue(self):
        """Schedule an activity for the owner of each open process that has
        stayed in its step longer than the step allows; once per stay.

        In batches, each committed with its activities and the processes'
        marks (Odoo's cron progress API): a run stopped half-way (a server
        stopped, the cron's time limits) keeps what it committed and the next
        run does the rest, and a process is never reminded twice. In one
        transaction, a backlog of some thousand overdue processes would
        exceed the worker's CPU limit at every run and never be reminded."""
        Cron = self.env["ir.cron"]
        todo = self._overdue_processes()
        time_left = Cron._commit_progress(remaining=len(todo))
        reminded = self.browse()
        while todo and time_left:
            batch, todo = todo[:REMIND_BATCH], todo[REMIND_BATCH:]
            # a fresh snapshot: processes moved on since the search are left out
            batch = self._overdue_processes(batch)
            batch._remind_overdue()
            reminded |= batch
            time_left = Cron._commit_progress(len(batch), remaining=len(todo))
        return reminded

    @api.model
    def _overdue_processes(self, among=None):
        """The processes past their step's maximum days, not yet reminded
        for this stay, in id order."""
        now = fields.Datetime.now()
        steps = self.env["crm.sales.process.step"].search([("max_days", ">", 0), ("is_final", "=", False)])
        if not steps:
            return self.browse()
        domain = Domain.OR(
            [
                ("step_id", "=", step.id),
                ("date_step", "<", now - timedelta(days=step.max_days)),
                "|",
                ("overdue_step_id", "=", False),
                ("overdue_step_id", "!=", step.id),
            ]
            for step in steps
        )
        if among is not None:
            domain &= Domain("id", "in", among.ids)
        return self.search(domain, order="id")

    def _remind_overdue(self):
        """One activity for the owner of each process, and the mark of the
        step it was reminded for, in the same transaction."""
        activity_type = self.env.ref("crm_sales_process.mail_activity_type_step_overdue", raise_if_not_found=False)
        lead_model = self.env["ir.model"]._get_id("crm.lead")
        vals_list = []
        for step, processes in self.grouped("step_id").items():
            with_record = processes.filtered("current_lead_id")
            available = with_record._available_transitions()
            for process in with_record:
                names = ", ".join(available[process].mapped("name"))
                vals_list.append(
                    {
                        "res_model_id": lead_model,
                        "res_id": process.current_lead_id.id,
                        "activity_type_id": activity_type.id if activity_type else False,
                        "user_id": (process.user_id or process.team_id.user_id or self.env.user).id,
                        "date_deadline": fields.Date.context_today(self),
                        "summary": self.env._('Overdue in step "%(step)s"', step=step.name),
                        "note": self.env._(
                            '"%(process)s" has been in step "%(step)s" for %(days)s days, more than the '
                            "%(max)s days it allows. Next moves: %(names)s.",
                            process=process.name,
                            step=step.name,
                            days=process.days_in_step,
                            max=step.max_days,
                            names=names or self.env._("none"),
                        ),
                    }
                )
            processes.write({"overdue_step_id": step.id})
        self.env["mail.activity"].sudo().create(vals_list)
