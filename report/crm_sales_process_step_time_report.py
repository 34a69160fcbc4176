# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models, tools
from odoo.tools import SQL

from .crm_sales_process_log_summary import percentile_sql
from .crm_sales_process_report import days_between

# measure -> fraction of percentile_cont
PERCENTILES = {"days_median": 0.5, "days_p90": 0.9}

# A step's 90th percentile says when a process is stuck there only once
# enough stays have ended in it: over two or three stays, or stays of a few
# seconds (a step that processes are moved through at once), it would flag
# every process that waits there at all.
STUCK_MIN_STAYS = 5

# A percentile read from the summary sorts, in each cell, a slice of the
# stays of every summary row of the cell: faster than the log's
# percentile_cont when the rows hold many lines each (a few owners and
# channels: about 460 in the benchmark, 3x faster), slower when they hold
# few (20 owners: 27 lines a row, 1.5x slower). Below this many log lines
# per summary row (the tables' statistics), percentiles read the log.
PERCENTILE_MIN_LINES_PER_ROW = 50


class CrmSalesProcessStepTimeReport(models.Model):
    """Time in Step: one row per completed stay of a process in a step,
    from the log line that ended it (the owner and channel of that moment,
    the month it ended in).

    Median and 90th percentile are exact in every cell of a pivot, list or
    graph: their read_group aggregate is PostgreSQL's percentile_cont over
    the stays of the cell (see _read_group_select, the way Odoo's own
    account.invoice.report computes its average price), not an average or
    a sum of per-row figures, which would be wrong for any grouping coarser
    than the rows. On one row both are the stay's own duration.

    A pivot or graph reads the summary of the log instead (see
    crm.sales.process.report): a summary row holds the sorted days of its
    stays, and a percentile is taken over the stays of the rows and lines of
    its cell, as exactly (see percentile_sql).
    """

    _name = "crm.sales.process.step.time.report"
    _inherit = ["crm.sales.process.summary.read.mixin"]
    _description = "Sales Process Time in Step"
    _auto = False
    _rec_name = "step_id"
    _order = "date_left desc, id desc"

    process_id = fields.Many2one("crm.sales.process", string="Sales Process", readonly=True)
    workflow_id = fields.Many2one("crm.sales.process.workflow", readonly=True)
    step_id = fields.Many2one("crm.sales.process.step", readonly=True)
    transition_id = fields.Many2one("crm.sales.process.transition", string="Left By", readonly=True)
    owner_id = fields.Many2one("res.users", readonly=True)
    # the record rule of a salesman's own rows (see crm.sales.process.report)
    process_owner_id = fields.Many2one("res.users", string="Current Owner", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date_entered = fields.Datetime("Entered", readonly=True)
    date_left = fields.Datetime("Left", readonly=True)
    stay_count = fields.Integer("Stays", readonly=True, aggregator="sum")
    days = fields.Float("Days in Step", readonly=True, aggregator="avg")
    days_median = fields.Float("Median Days", readonly=True, aggregator="avg")
    days_p90 = fields.Float("90th Percentile Days", readonly=True, aggregator="avg")

    def _query(self):
        leaves = self.env["crm.sales.process.report"]._leaves_step("log")
        days = days_between("log.date_from_step", "log.date")
        return f"""
                SELECT
                    log.id,
                    log.process_id,
                    step.workflow_id,
                    log.from_step_id AS step_id,
                    log.transition_id,
                    log.owner_id,
                    process.user_id AS process_owner_id,
                    log.team_id,
                    log.company_id,
                    log.date_from_step AS date_entered,
                    log.date AS date_left,
                    1 AS stay_count,
                    {days} AS days,
                    {days} AS days_median,
                    {days} AS days_p90
                FROM crm_sales_process_log log
                JOIN crm_sales_process process ON process.id = log.process_id
                JOIN crm_sales_process_step step ON step.id = log.from_step_id
                WHERE {leaves}
        """

    # what a summary row holds as it is (see crm.sales.process.summary.read.mixin)
    _summary_keys = frozenset({"workflow_id", "step_id", "transition_id", "owner_id", "team_id", "company_id"})
    _summary_date = "date_left"
    _summary_averages = frozenset({"days"})
    _summary_sums = frozenset({"stay_count"})

    def _summary_query(self, read):
        """The stays of the summary rows (one row each, ``summary_id`` set)
        and those read line by line (``raw_days`` set)."""
        report = self.env["crm.sales.process.report"]
        days = days_between("log.date_from_step", "log.date")
        return SQL(
            """
            SELECT step.workflow_id, f.step_id, f.transition_id, f.owner_id, f.team_id, f.company_id,
                   f.date_left, f.n AS stay_count, f.n AS __lines, f.days_sum AS days__sum,
                   f.days_count AS days__count, f.summary_id, f.raw_days
              FROM (
                SELECT s.from_step_id AS step_id, s.transition_id, s.owner_id, s.team_id, s.company_id,
                       s.date_min AS date_left, s.line_count AS n, s.days_sum, s.days_count,
                       s.id AS summary_id, NULL::float8 AS raw_days
                  FROM crm_sales_process_log_summary s
                 WHERE %s AND %s
                UNION ALL
                %s
              ) f
              JOIN crm_sales_process_step step ON step.id = f.step_id
            """,
            SQL(report._leaves_step("s")),
            self._summary_clean(read, "s"),
            self._summary_lines(
                read,
                SQL(
                    f"""log.from_step_id, log.transition_id, log.owner_id, log.team_id, log.company_id,
                        log.date, 1, {days}, (log.date_from_step IS NOT NULL)::int, NULL::int, {days}"""
                ),
                SQL(report._leaves_step("log")),
            ),
        )

    @api.model
    def _summary_read(self, domain, groupby, aggregates, having, order):
        read = super()._summary_read(domain, groupby, aggregates, having, order)
        if read is None or not any(spec.partition(":")[0] in PERCENTILES for spec in aggregates):
            return read
        self.env.cr.execute(
            """SELECT (SELECT reltuples FROM pg_class WHERE oid = 'crm_sales_process_log'::regclass),
                      (SELECT reltuples FROM pg_class WHERE oid = 'crm_sales_process_log_summary'::regclass)"""
        )
        lines, rows = self.env.cr.fetchone()
        # never analyzed yet (-1): the summary, as for the other measures
        if rows > 0 and lines < PERCENTILE_MIN_LINES_PER_ROW * rows:
            return None
        return read

    def _summary_aggregate_ok(self, spec):
        fname, __, func = spec.partition(":")
        return (fname in PERCENTILES and func == "avg") or super()._summary_aggregate_ok(spec)

    def _summary_select(self, aggregate_spec, query):
        fname, __, func = aggregate_spec.partition(":")
        if fname not in PERCENTILES or func != "avg":
            return super()._summary_select(aggregate_spec, query)
        summary_id = SQL.identifier(self._table, "summary_id")
        return SQL(
            "(%s)[1]",
            percentile_sql(
                [PERCENTILES[fname]],
                SQL("array_agg(%s) FILTER (WHERE %s IS NOT NULL)", summary_id, summary_id),
                SQL(
                    "array_agg(%s) FILTER (WHERE %s IS NULL)",
                    SQL.identifier(self._table, "raw_days"),
                    summary_id,
                ),
            ),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = aggregate_spec.partition(":")
        if fname not in PERCENTILES or func != "avg" or self._summary_reading():
            return super()._read_group_select(aggregate_spec, query)
        return SQL(
            "percentile_cont(%s) WITHIN GROUP (ORDER BY %s)",
            PERCENTILES[fname],
            self._field_to_sql(self._table, "days", query),
        )

    @api.model
    def _step_p90(self, step_ids):
        """{step id: 90th percentile of its completed stays, in days} over
        all the stays of those steps (every owner, channel and month), for
        the steps with at least STUCK_MIN_STAYS of them: one query, as sudo
        since a threshold is a property of the step, not of the stays a
        user may read."""
        if not step_ids:
            return {}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT from_step_id, percentile_cont(0.9) WITHIN GROUP (ORDER BY %s)
                  FROM crm_sales_process_log log
                 WHERE from_step_id = ANY(%s) AND %s
                 GROUP BY from_step_id
                HAVING count(*) >= %s
                """,
                SQL(days_between("log.date_from_step", "log.date")),
                list(step_ids),
                SQL(self.env["crm.sales.process.report"]._leaves_step("log")),
                STUCK_MIN_STAYS,
            )
        )
        return dict(self.env.cr.fetchall())
