# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields, models, tools
from odoo.tools import SQL

from .crm_sales_process_report import days_between


class CrmSalesProcessVisitReport(models.Model):
    """Step Visits: one row per stay of a process in a step, from a start or
    a transition that changes the step (a move to another workflow keeps
    the stay going, in the step it maps to) to the transition that makes it
    leave, with the days so far.

    - A completed stay is the log line that ended it, as in Time in Step:
      its From Step, entered at date_from_step, left at its date, by its
      transition; owner, channel and company as they were then.
    - The current stay of a process is the process itself: its step, since
      date_step; its owner, channel and company now.
    - Entered By and Re-entry: the transition that began the stay, and
      whether the process had been in that step before (a reactivated lead
      back in New Lead, a reopened deal back in New Opportunity), kept by
      the log on the line that ends the stay and on the process
      (from_step_transition_id, from_step_reentry; step_transition_id,
      step_reentry).

    A pivot or graph reads the completed stays folded by the day they began
    (crm.sales.process.stay.summary) plus those not folded yet, and the
    processes, when its groupings and filters only use what a row holds
    (see crm.sales.process.summary.read.mixin); the rest reads this view.
    """

    _name = "crm.sales.process.visit.report"
    _inherit = ["crm.sales.process.summary.read.mixin"]
    _description = "Sales Process Step Visits"
    _auto = False
    _rec_name = "step_id"
    _order = "date_entered desc, id desc"

    process_id = fields.Many2one("crm.sales.process", string="Sales Process", readonly=True)
    workflow_id = fields.Many2one("crm.sales.process.workflow", readonly=True)
    step_id = fields.Many2one("crm.sales.process.step", readonly=True)
    entry_transition_id = fields.Many2one("crm.sales.process.transition", string="Entered By", readonly=True)
    exit_transition_id = fields.Many2one("crm.sales.process.transition", string="Left By", readonly=True)
    owner_id = fields.Many2one("res.users", readonly=True)
    # the record rule of a salesman's own rows (see crm.sales.process.report)
    process_owner_id = fields.Many2one("res.users", string="Current Owner", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date_entered = fields.Datetime("Entered", readonly=True)
    date_left = fields.Datetime("Left", readonly=True)
    state = fields.Selection([("current", "Still There"), ("left", "Left")], readonly=True)
    is_final = fields.Boolean("Final Step", readonly=True)
    is_reentry = fields.Boolean("Re-entry", readonly=True)
    reentry_count = fields.Integer("Re-entries", readonly=True, aggregator="sum")
    days = fields.Float("Days (so far)", readonly=True, aggregator="avg")

    # what a summary row holds as it is (see crm.sales.process.summary.read.mixin)
    _summary_keys = frozenset(
        {
            "workflow_id",
            "step_id",
            "entry_transition_id",
            "exit_transition_id",
            "owner_id",
            "team_id",
            "company_id",
            "state",
            "is_final",
            "is_reentry",
        }
    )
    _summary_date = "date_entered"
    _summary_averages = frozenset({"days"})
    _summary_sums = frozenset({"reentry_count"})
    _summary_table = "crm_sales_process_stay_summary"
    _summary_marker = "stay_summary_id"

    def _query(self):
        leaves = self.env["crm.sales.process.report"]._leaves_step("log")
        now = "now() AT TIME ZONE 'UTC'"
        # ids: a completed stay's line id and a process's id, apart (even, odd)
        return f"""
                SELECT
                    log.id * 2 AS id,
                    log.process_id,
                    step.workflow_id,
                    log.from_step_id AS step_id,
                    log.from_step_transition_id AS entry_transition_id,
                    log.transition_id AS exit_transition_id,
                    log.owner_id,
                    process.user_id AS process_owner_id,
                    log.team_id,
                    log.company_id,
                    log.date_from_step AS date_entered,
                    log.date AS date_left,
                    'left' AS state,
                    COALESCE(step.is_final, FALSE) AS is_final,
                    COALESCE(log.from_step_reentry, FALSE) AS is_reentry,
                    COALESCE(log.from_step_reentry, FALSE)::int AS reentry_count,
                    {days_between("log.date_from_step", "log.date")} AS days
                FROM crm_sales_process_log log
                LEFT JOIN crm_sales_process process ON process.id = log.process_id
                JOIN crm_sales_process_step step ON step.id = log.from_step_id
                WHERE {leaves}
                UNION ALL
                SELECT
                    process.id * 2 + 1,
                    process.id,
                    step.workflow_id,
                    process.step_id,
                    process.step_transition_id,
                    NULL,
                    process.user_id,
                    process.user_id,
                    process.team_id,
                    process.company_id,
                    process.date_step,
                    NULL,
                    'current',
                    COALESCE(step.is_final, FALSE),
                    COALESCE(process.step_reentry, FALSE),
                    COALESCE(process.step_reentry, FALSE)::int,
                    {days_between("process.date_step", now)}
                FROM crm_sales_process process
                JOIN crm_sales_process_step step ON step.id = process.step_id
                WHERE process.date_started IS NOT NULL
        """

    def _summary_query(self, read):
        """The completed stays of the summary rows and those read line by
        line (``log.n`` stays each), and the current stays: the processes,
        grouped by what a summary row holds and the local period the read
        groups by (each group within one, dated by its first stay), or one
        by one when the read compares their dates with others."""
        leaves = self.env["crm.sales.process.report"]._leaves_step("log")
        days = days_between("log.date_from_step", "log.date")
        since = days_between("process.date_step", "now() AT TIME ZONE 'UTC'")
        if read.cuts:
            current = SQL(
                f"""SELECT process.step_id, process.step_transition_id, NULL, process.user_id, process.team_id,
                           process.company_id, process.date_step, 'current', COALESCE(process.step_reentry, FALSE),
                           1, {since}, 1
                      FROM crm_sales_process process
                     WHERE process.date_started IS NOT NULL"""
            )
        else:
            period = SQL("NULL::timestamp")
            if read.period:
                local = SQL("process.date_step")
                if read.tz:
                    local = SQL("timezone(%s, timezone('UTC', process.date_step))", read.tz)
                period = SQL("date_trunc(%s, %s)", read.period, local)
            current = SQL(
                f"""SELECT process.step_id, process.step_transition_id, NULL, process.user_id, process.team_id,
                           process.company_id, min(process.date_step), 'current',
                           COALESCE(process.step_reentry, FALSE), count(*), sum({since}), count({since})
                      FROM crm_sales_process process
                     WHERE process.date_started IS NOT NULL
                     GROUP BY process.step_id, process.step_transition_id, process.user_id, process.team_id,
                              process.company_id, COALESCE(process.step_reentry, FALSE), %s""",
                period,
            )
        return SQL(
            """
            SELECT step.workflow_id, f.step_id, f.entry_transition_id, f.exit_transition_id, f.owner_id,
                   f.team_id, f.company_id, f.date_entered, f.state, COALESCE(step.is_final, FALSE) AS is_final,
                   f.is_reentry, f.n AS __lines, CASE WHEN f.is_reentry THEN f.n ELSE 0 END AS reentry_count,
                   f.days_sum AS days__sum, f.days_count AS days__count
              FROM (
                SELECT s.step_id, s.entry_transition_id, s.transition_id AS exit_transition_id, s.owner_id,
                       s.team_id, s.company_id, s.date_min AS date_entered, 'left' AS state,
                       s.is_reentry, s.line_count AS n, s.days_sum, s.days_count
                  FROM crm_sales_process_stay_summary s
                 WHERE %s
                UNION ALL
                %s
                UNION ALL
                %s
              ) f
              JOIN crm_sales_process_step step ON step.id = f.step_id
            """,
            self._summary_clean(read, "s"),
            self._summary_lines(
                read,
                SQL(
                    f"""log.from_step_id, log.from_step_transition_id, log.transition_id, log.owner_id,
                        log.team_id, log.company_id, log.date_from_step, 'left',
                        COALESCE(log.from_step_reentry, FALSE), 1, {days},
                        (log.date_from_step IS NOT NULL)::int"""
                ),
                SQL(leaves),
            ),
            current,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))
