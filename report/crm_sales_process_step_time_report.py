# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models, tools
from odoo.tools import SQL

from .crm_sales_process_report import days_between

# measure -> fraction of percentile_cont
PERCENTILES = {"days_median": 0.5, "days_p90": 0.9}

# A step's 90th percentile says when a process is stuck there only once
# enough stays have ended in it: over two or three stays, or stays of a few
# seconds (a step that processes are moved through at once), it would flag
# every process that waits there at all.
STUCK_MIN_STAYS = 5


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
    """

    _name = "crm.sales.process.step.time.report"
    _description = "Sales Process Time in Step"
    _auto = False
    _rec_name = "step_id"
    _order = "date_left desc, id desc"

    process_id = fields.Many2one("crm.sales.process", string="Sales Process", readonly=True)
    workflow_id = fields.Many2one("crm.sales.process.workflow", readonly=True)
    step_id = fields.Many2one("crm.sales.process.step", readonly=True)
    transition_id = fields.Many2one("crm.sales.process.transition", string="Left By", readonly=True)
    owner_id = fields.Many2one("res.users", readonly=True)
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
                    log.team_id,
                    log.company_id,
                    log.date_from_step AS date_entered,
                    log.date AS date_left,
                    1 AS stay_count,
                    {days} AS days,
                    {days} AS days_median,
                    {days} AS days_p90
                FROM crm_sales_process_log log
                JOIN crm_sales_process_step step ON step.id = log.from_step_id
                WHERE {leaves}
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = aggregate_spec.partition(":")
        if fname not in PERCENTILES or func != "avg":
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
