# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields, models, tools
from odoo.tools import SQL

from .crm_sales_process_report import days_between


class CrmSalesProcessVisitReport(models.Model):
    """Step Visits: one row per entry of a process into a step (a start,
    or a transition that changes the step), with when it left (empty while
    the process is still there), the transition that made it leave, and the
    duration so far. A re-entry is a visit to a step the process had been in
    before (a reactivated lead back in New Lead, a reopened deal back in New
    Opportunity). The order of the log lines (their ids) is the order the
    transitions ran in: the visit that follows is found by id, not by date.
    """

    _name = "crm.sales.process.visit.report"
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
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date_entered = fields.Datetime("Entered", readonly=True)
    date_left = fields.Datetime("Left", readonly=True)
    state = fields.Selection([("current", "Still There"), ("left", "Left")], readonly=True)
    is_final = fields.Boolean("Final Step", readonly=True)
    is_reentry = fields.Boolean("Re-entry", readonly=True)
    reentry_count = fields.Integer("Re-entries", readonly=True, aggregator="sum")
    days = fields.Float("Days (so far)", readonly=True, aggregator="avg")

    def _query(self):
        return f"""
                SELECT
                    entry.id,
                    entry.process_id,
                    step.workflow_id,
                    entry.to_step_id AS step_id,
                    entry.transition_id AS entry_transition_id,
                    next.transition_id AS exit_transition_id,
                    entry.owner_id,
                    entry.team_id,
                    entry.company_id,
                    entry.date AS date_entered,
                    next.date AS date_left,
                    CASE WHEN next.id IS NULL THEN 'current' ELSE 'left' END AS state,
                    step.is_final,
                    entry.visit > 1 AS is_reentry,
                    (entry.visit > 1)::int AS reentry_count,
                    {days_between("entry.date", "COALESCE(next.date, now() AT TIME ZONE 'UTC')")} AS days
                FROM (
                    SELECT log.*,
                           lead(log.id) OVER (PARTITION BY log.process_id ORDER BY log.id) AS next_id,
                           row_number() OVER (
                               PARTITION BY log.process_id, log.to_step_id ORDER BY log.id
                           ) AS visit
                      FROM crm_sales_process_log log
                     WHERE log.transition_id IS NOT NULL
                       AND log.from_step_id IS DISTINCT FROM log.to_step_id
                ) entry
                JOIN crm_sales_process_step step ON step.id = entry.to_step_id
                LEFT JOIN crm_sales_process_log next ON next.id = entry.next_id
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))
