# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields, models, tools
from odoo.tools import SQL

from .crm_sales_process_report import days_between


class CrmSalesProcessJourneyReport(models.Model):
    """Deal Journeys: one row per chain of records linked by reactivate
    and reopen, from the first lead (or opportunity) to the latest record.
    A process follows exactly one such chain, so a journey is a process
    seen from end to end; owner, channel and company are its current ones.
    Read from the facts its log keeps on the process (crm.sales.process:
    date_started, first_lead_id, reopen_count...), one row each.

    - Start: its first log line; End: when it entered its final step (empty
      while open); Cycle Days: from start to end (to now while open).
    - Outcome: won, lost (a lost opportunity), disqualified (a disqualified
      lead), or open.
    - Lead-to-Won Rate: 100 on a closed journey that started from a lead and
      ended won, 0 on one that started from a lead and ended lost or
      disqualified, nothing otherwise: its average is won / closed among the
      journeys from a lead, in every pivot cell.
    - Lead to Won Days: cycle days of the journeys from a lead that ended won.
    - Opportunity to Won / Lost Days: from the first time the journey was an
      opportunity (its qualification, or its start from an opportunity) to
      its end, on the journeys that ended won, and lost, apart.
    """

    _name = "crm.sales.process.journey.report"
    _description = "Sales Process Deal Journeys"
    _auto = False
    _rec_name = "process_id"
    _order = "date_start desc, id desc"

    process_id = fields.Many2one("crm.sales.process", string="Sales Process", readonly=True)
    workflow_id = fields.Many2one("crm.sales.process.workflow", readonly=True)
    step_id = fields.Many2one("crm.sales.process.step", string="Current Step", readonly=True)
    user_id = fields.Many2one("res.users", string="Owner", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    first_lead_id = fields.Many2one("crm.lead", string="First Record", readonly=True)
    current_lead_id = fields.Many2one("crm.lead", string="Latest Record", readonly=True)
    start_type = fields.Selection(
        [("lead", "From a Lead"), ("opportunity", "From an Opportunity")], string="Started", readonly=True
    )
    date_start = fields.Datetime("Start", readonly=True)
    date_opportunity = fields.Datetime("Opportunity Since", readonly=True)
    date_end = fields.Datetime("End", readonly=True)
    outcome = fields.Selection(
        [("won", "Won"), ("lost", "Lost"), ("disqualified", "Disqualified"), ("open", "Open")],
        readonly=True,
    )
    reactivation_count = fields.Integer("Reactivations", readonly=True, aggregator="sum")
    reopen_count = fields.Integer("Reopens", readonly=True, aggregator="sum")
    cycle_days = fields.Float(readonly=True, aggregator="avg")
    lead_to_won_rate = fields.Float("Lead-to-Won Rate (%)", readonly=True, aggregator="avg")
    lead_to_won_days = fields.Float("Lead to Won Days", readonly=True, aggregator="avg")
    opportunity_to_won_days = fields.Float("Opportunity to Won Days", readonly=True, aggregator="avg")
    opportunity_to_lost_days = fields.Float("Opportunity to Lost Days", readonly=True, aggregator="avg")

    def _query(self):
        # one row per process, from the facts the log keeps on it (date_started,
        # first record, reopens...): a plain read of the processes, not of the log
        date_end = "CASE WHEN step.is_final IS TRUE THEN process.date_step END"
        return f"""
                SELECT
                    process.id,
                    process.id AS process_id,
                    process.workflow_id,
                    process.step_id,
                    process.user_id,
                    process.team_id,
                    process.company_id,
                    process.first_lead_id,
                    process.current_lead_id,
                    first_step.record_type AS start_type,
                    process.date_started AS date_start,
                    process.date_opportunity,
                    {date_end} AS date_end,
                    outcome.outcome,
                    COALESCE(process.reactivation_count, 0) AS reactivation_count,
                    COALESCE(process.reopen_count, 0) AS reopen_count,
                    {days_between("process.date_started", f"COALESCE({date_end}, now() AT TIME ZONE 'UTC')")}
                        AS cycle_days,
                    CASE WHEN first_step.record_type = 'lead' AND outcome.outcome != 'open'
                         THEN CASE WHEN outcome.outcome = 'won' THEN 100::float8 ELSE 0::float8 END
                    END AS lead_to_won_rate,
                    CASE WHEN first_step.record_type = 'lead' AND outcome.outcome = 'won'
                         THEN {days_between("process.date_started", "process.date_step")}
                    END AS lead_to_won_days,
                    CASE WHEN outcome.outcome = 'won'
                         THEN {days_between("process.date_opportunity", "process.date_step")}
                    END AS opportunity_to_won_days,
                    CASE WHEN outcome.outcome = 'lost'
                         THEN {days_between("process.date_opportunity", "process.date_step")}
                    END AS opportunity_to_lost_days
                FROM crm_sales_process process
                JOIN crm_sales_process_step step ON step.id = process.step_id
                LEFT JOIN crm_sales_process_step first_step ON first_step.id = process.first_step_id,
                LATERAL (
                    -- Odoo leaves a boolean it was not given NULL (the open steps
                    -- of the installed workflow, a step created over RPC): not final
                    SELECT CASE WHEN step.is_final IS NOT TRUE THEN 'open'
                                WHEN step.outcome = 'won' THEN 'won'
                                WHEN step.record_type = 'lead' THEN 'disqualified'
                                ELSE 'lost'
                           END AS outcome
                ) outcome
                WHERE process.date_started IS NOT NULL
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))
