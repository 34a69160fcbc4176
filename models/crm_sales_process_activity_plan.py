# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict

from markupsafe import Markup

from odoo import fields, models
from odoo.tools.misc import format_date


class CrmSalesProcessActivityPlan(models.AbstractModel):
    """The activity plans of the steps, launched on the records of the
    processes that enter them; inherited by crm.sales.process.

    crm.sales.process._finish calls _launch_activity_plans for the processes
    that a transition (a start and a reopen included) brought into a step with
    a plan; the Move Processes form for those a move brought there, and the
    step's "Launch on the processes here" for those already in it."""

    _name = "crm.sales.process.activity.plan"
    _description = "Sales Process: Activity Plans of the Steps"

    def _launch_activity_plans(self, entries):
        """Launch the activity plan of the step each process entered on the
        record it is about there, the deadlines counted from today (the day
        the processes enter the step). ``entries``: {process: (step, record)}.

        Odoo's plan launch (the Schedule Activities wizard's
        action_schedule_plan) schedules one activity at a time, record after
        record: this does what it does with its own pieces (the templates
        the wizard schedules, each template's responsible and deadline,
        activity_schedule, the wizard's chatter summary), in batch: one
        activity_schedule per template, responsible and deadline, and the
        summaries of all the records logged in one go."""
        plan_date = fields.Date.context_today(self)
        Process = self.env["crm.sales.process"]
        by_step = defaultdict(list)
        for process, (step, record) in entries.items():
            by_step[step].append((process, record))
        Scheduler = self.env["mail.activity.schedule"]
        bodies = {}
        for step, items in by_step.items():
            plan = step.activity_plan_id
            scheduler = Scheduler.new({"res_model": "crm.lead", "plan_id": plan.id, "plan_date": plan_date})
            templates = scheduler._plan_filter_activity_templates_to_schedule()
            deadlines = {template: template._get_date_deadline(plan_date) for template in templates}
            batches = defaultdict(lambda: self.env["crm.lead"])
            for process, record in items:
                # "Ask at launch" templates go to the owner: the record's salesperson
                owner = record.user_id or process.team_id.user_id or self.env.user
                lines = []
                for template in templates:
                    responsible = template._determine_responsible(owner, record)["responsible"] or owner
                    batches[template, responsible] |= record
                    lines.append(
                        self.env._(
                            "%(activity)s, assigned to %(user)s, due on %(deadline)s",
                            activity=template.summary or template.activity_type_id.name,
                            user=responsible.name,
                            deadline=format_date(self.env, deadlines[template]),
                        )
                    )
                bodies[record.id] = Markup("<p>%s</p><ul>%s</ul>") % (
                    self.env._(
                        'Step "%(step)s": the activity plan "%(plan)s" was launched.', step=step.name, plan=plan.name
                    ),
                    Markup().join(Markup("<li>%s</li>") % line for line in lines),
                )
            # the plan of this stay: launching it again on the step leaves them out
            Process.union(*(process for process, __ in items)).sudo().write({"activity_plan_id": plan.id})
            for (template, responsible), records in batches.items():
                records.activity_schedule(
                    activity_type_id=template.activity_type_id.id,
                    automated=False,
                    summary=template.summary,
                    note=template.note,
                    user_id=responsible.id,
                    date_deadline=deadlines[template],
                )
        if bodies:
            self.env["crm.lead"].browse(bodies)._message_log_batch(bodies=bodies)
