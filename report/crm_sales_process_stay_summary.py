# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import logging
import time as timer
from datetime import datetime

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_sales_process_log_summary import days_between, delete_rows_of_lines

_logger = logging.getLogger(__name__)


class CrmSalesProcessStaySummary(models.Model):
    """The completed stays of Step Visits, folded by the day (or month) they
    began.

    A completed stay is the log line that ended it (it left its From Step,
    entered at date_from_step; the line keeps how that stay began). The
    analysis summary folds the lines by the period they were written in;
    Step Visits groups its stays by the period they began in, so they fold
    apart, with the daily fold (crm.sales.process.log.summary._fold): one
    row per day (the stays that ended this month) or month (those that ended
    in a month that is over) begun, split at the local midnights of the
    users' time zones as the analysis summary's are, and per step,
    transitions in and out, owner, channel, company and re-entry, holding
    the count of the stays and the sum of their days. A completed stay never
    changes: a row stays right until a line it counts is rewritten (then it
    is deleted, see _unfold_lines, and folded anew).
    """

    _name = "crm.sales.process.stay.summary"
    _description = "Sales Process Step Visits Summary"
    _log_access = False
    _order = "id"

    step_id = fields.Many2one("crm.sales.process.step", ondelete="restrict", readonly=True)
    entry_transition_id = fields.Many2one(
        "crm.sales.process.transition", string="Entered By", ondelete="restrict", readonly=True
    )
    transition_id = fields.Many2one(
        "crm.sales.process.transition", string="Left By", ondelete="restrict", readonly=True
    )
    owner_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    is_reentry = fields.Boolean("Re-entry", readonly=True)
    # the stays that began on a day, or in a month that was over when they
    # ended: the day rows of the stays that ended in a month fold again by
    # month once it is over (see _fold)
    period = fields.Selection([("day", "Day"), ("month", "Month")], readonly=True)
    # the first and the last date its stays began, and the last they ended
    date_min = fields.Datetime(readonly=True)
    date_max = fields.Datetime(readonly=True)
    date_left_max = fields.Datetime("Last Left", readonly=True)
    line_count = fields.Integer(readonly=True)
    days_sum = fields.Float(readonly=True)
    days_count = fields.Integer(readonly=True)

    @api.model
    def _fold(self, before):
        """Fold the completed stays not folded yet whose line was written
        before ``before`` into new rows (one statement, as the analysis
        summary's fold); return how many."""
        self.env.flush_all()
        started = timer.monotonic()
        leaves = self.env["crm.sales.process.report"]._leaves_step("l")
        # the stays that ended in a month that is over fold by the month they
        # began, the others by the day; the day rows of the stays that ended
        # in a month go back to their lines once it is over
        month = datetime(before.year, before.month, 1)
        self.env.cr.execute(
            "DELETE FROM crm_sales_process_stay_summary WHERE period = 'day' AND date_left_max < %s", [month]
        )
        # split as the analysis summary's rows are (see its _fold)
        local_periods = []
        for tz in self.env["crm.sales.process.log.summary"]._fold_timezones():
            local = SQL("timezone(%s, timezone('UTC', l.date_from_step))", tz)
            local_periods += [
                SQL("date_trunc(p.period, %s)", local),
                SQL("CASE WHEN p.period = 'month' THEN %s - l.date_from_step END", local),
            ]
        self.env.cr.execute(
            SQL(
                """
            WITH line AS MATERIALIZED (
                SELECT l.id, l.from_step_id, l.from_step_transition_id, l.transition_id, l.owner_id,
                       l.team_id, l.company_id, COALESCE(l.from_step_reentry, FALSE) AS is_reentry,
                       l.date_from_step, l.date, p.period, %(days)s AS days,
                       dense_rank() OVER (ORDER BY p.period, date_trunc(p.period, l.date_from_step),
                                          %(local_periods)s
                                          l.from_step_id, l.from_step_transition_id, l.transition_id,
                                          l.owner_id, l.team_id, l.company_id,
                                          COALESCE(l.from_step_reentry, FALSE)) AS grp
                  FROM crm_sales_process_log l,
                       LATERAL (SELECT CASE WHEN l.date < %(month)s THEN 'month' ELSE 'day' END AS period) p
                 WHERE l.stay_summary_id IS NULL AND %(leaves)s AND l.date < %(before)s
            ), grp AS MATERIALIZED (
                SELECT grp, nextval('crm_sales_process_stay_summary_id_seq') AS id, min(period) AS period,
                       min(from_step_id) AS step_id, min(from_step_transition_id) AS entry_transition_id,
                       min(transition_id) AS transition_id, min(owner_id) AS owner_id,
                       min(team_id) AS team_id, min(company_id) AS company_id, bool_or(is_reentry) AS is_reentry,
                       min(date_from_step) AS date_min, max(date_from_step) AS date_max,
                       max(date) AS date_left_max,
                       count(*) AS line_count, sum(days) AS days_sum, count(days) AS days_count,
                       array_agg(id) AS line_ids
                  FROM line
                 GROUP BY grp
            ), inserted AS (
                INSERT INTO crm_sales_process_stay_summary (
                    id, period, step_id, entry_transition_id, transition_id, owner_id, team_id, company_id,
                    is_reentry, date_min, date_max, date_left_max, line_count, days_sum, days_count)
                SELECT id, period, step_id, entry_transition_id, transition_id, owner_id, team_id, company_id,
                       is_reentry, date_min, date_max, date_left_max, line_count, days_sum, days_count
                  FROM grp
            )
            UPDATE crm_sales_process_log l
               SET stay_summary_id = folded.id
              FROM (SELECT grp.id, unnest(grp.line_ids) AS line_id FROM grp) folded
             WHERE l.id = folded.line_id
            """,
                days=SQL(days_between("l.date_from_step", "l.date")),
                leaves=SQL(leaves),
                local_periods=SQL("").join(SQL("%s, ", part) for part in local_periods),
                month=month,
                before=before,
            )
        )
        folded = self.env.cr.rowcount
        _logger.info(
            "Folded %d completed stays into the Step Visits summary in %.1f s", folded, timer.monotonic() - started
        )
        self.env["crm.sales.process.log"].invalidate_model(["stay_summary_id"])
        return folded

    @api.model
    def _unfold_lines(self, where):
        """Delete the rows that fold a line matching the SQL condition
        ``where`` (alias ``log``): their stays are read one by one again."""
        delete_rows_of_lines(self, "stay_summary_id", where)
