# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict
from datetime import datetime

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.orm.domains import DomainBool, DomainCondition, DomainNary
from odoo.tools import SQL

from .crm_sales_process_log_summary import days_between
from .demo_history import build_demo_history


class CrmSalesProcessReport(models.Model):
    """Sales Process Analysis: one row per logged transition.

    Every rate is a column that holds 100 on the rows that count as a
    success, 0 on the rows that count as a failure, and nothing (NULL) on
    every other row; its aggregator is the average, which SQL takes over the
    non-NULL values only. So in any pivot cell, whatever the grouping:

    - Qualification Rate = qualified / (qualified + disqualified): 100 on a
      qualify row, 0 on a disqualify row;
    - Reactivated Qualification Rate: the same, on the rows whose lead was
      made by a reactivation only;
    - Win Rate = won / (won + lost): 100 on a close-as-won row, 0 on a
      close-as-lost row;
    - First-Pass Win Rate and Reopened Win Rate: the same, on the closings of
      opportunities not made by a reopening, and of those made by one.

    The 0/1 flags (Qualified, Disqualified, Won, Lost, Reopened, Reactivated,
    Forward) are summed: counts of transitions. Days in Step is the time the
    process had spent in the step the transition left, on the rows that leave
    a step only (not on a start, a follow-up or a move to another workflow),
    so that its average is the average completed stay in the From Step.
    Days to Reopen and Days to Reactivate are that time on the reopen and
    reactivate rows: how long the deal stayed closed (or the lead
    disqualified) before it was given another chance.

    Owner, channel and company are those of the process right after the
    transition (kept on the log line); By is who ran it.

    A pivot or graph reads the summary of the log (crm.sales.process.log.
    summary: one row per day, transition, steps, owner, channel, company and
    record origin, plus the lines not folded yet) instead of every line when
    its groupings, filters and the user's record rules only use those (see
    the summary's mixin); each measure then is the same ratio of sums over
    the same lines, so the figures are the same. A list, a filter on a
    process or on By, or a salesman's own processes read the lines.
    """

    _name = "crm.sales.process.report"
    _inherit = ["crm.sales.process.summary.read.mixin"]
    _description = "Sales Process Analysis"
    _auto = False
    _rec_name = "transition_id"
    _order = "date desc, id desc"

    process_id = fields.Many2one("crm.sales.process", string="Sales Process", readonly=True)
    workflow_id = fields.Many2one("crm.sales.process.workflow", readonly=True)
    transition_id = fields.Many2one("crm.sales.process.transition", readonly=True)
    effect = fields.Selection(
        lambda self: self.env["crm.sales.process.transition"]._fields["effect"].selection,
        readonly=True,
    )
    from_step_id = fields.Many2one("crm.sales.process.step", readonly=True, help="Empty on a start.")
    to_step_id = fields.Many2one("crm.sales.process.step", readonly=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True)
    owner_id = fields.Many2one("res.users", readonly=True)
    # the owner of the process now: the record rule of a salesman's own rows
    # (a column of the view, so that PostgreSQL starts from his processes)
    process_owner_id = fields.Many2one("res.users", string="Current Owner", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Record", readonly=True)
    date = fields.Datetime(readonly=True)
    record_origin = fields.Selection(
        lambda self: self.env["crm.sales.process.log"]._fields["record_origin"].selection,
        readonly=True,
    )
    days_in_step = fields.Float("Days in Step", readonly=True, aggregator="avg")
    is_forward = fields.Integer("Forward Moves", readonly=True, aggregator="sum")
    is_qualified = fields.Integer("Qualified", readonly=True, aggregator="sum")
    is_disqualified = fields.Integer("Disqualified", readonly=True, aggregator="sum")
    is_won = fields.Integer("Won", readonly=True, aggregator="sum")
    is_lost = fields.Integer("Lost", readonly=True, aggregator="sum")
    is_reopened = fields.Integer("Reopened", readonly=True, aggregator="sum")
    is_reactivated = fields.Integer("Reactivated", readonly=True, aggregator="sum")
    qualification_rate = fields.Float("Qualification Rate (%)", readonly=True, aggregator="avg")
    reactivated_qualification_rate = fields.Float("Reactivated Qualification Rate (%)", readonly=True, aggregator="avg")
    win_rate = fields.Float("Win Rate (%)", readonly=True, aggregator="avg")
    first_pass_win_rate = fields.Float("First-Pass Win Rate (%)", readonly=True, aggregator="avg")
    reopened_win_rate = fields.Float("Reopened Win Rate (%)", readonly=True, aggregator="avg")
    days_to_reopen = fields.Float("Days to Reopen", readonly=True, aggregator="avg")
    days_to_reactivate = fields.Float("Days to Reactivate", readonly=True, aggregator="avg")

    # what a summary row holds as it is (see crm.sales.process.summary.read.mixin)
    _summary_keys = frozenset(
        {
            "workflow_id",
            "transition_id",
            "effect",
            "from_step_id",
            "to_step_id",
            "owner_id",
            "team_id",
            "company_id",
            "record_origin",
        }
    )
    _summary_averages = frozenset(
        {
            "days_in_step",
            "qualification_rate",
            "reactivated_qualification_rate",
            "win_rate",
            "first_pass_win_rate",
            "reopened_win_rate",
            "days_to_reopen",
            "days_to_reactivate",
        }
    )
    _summary_sums = frozenset(
        {"is_forward", "is_qualified", "is_disqualified", "is_won", "is_lost", "is_reopened", "is_reactivated"}
    )

    def _query(self):
        return f"""
            SELECT
                log.id,
                log.process_id,
                to_step.workflow_id,
                log.transition_id,
                tr.effect,
                log.from_step_id,
                log.to_step_id,
                log.user_id,
                log.owner_id,
                process.user_id AS process_owner_id,
                log.team_id,
                log.company_id,
                log.lead_id,
                log.date,
                log.record_origin,
                CASE WHEN {self._leaves_step("log")}
                     THEN {days_between("log.date_from_step", "log.date")}
                END AS days_in_step,
                CASE WHEN log.transition_id IS NOT NULL
                      AND to_step.outcome != 'lost'
                      AND to_step.sequence > from_step.sequence
                     THEN 1 ELSE 0 END AS is_forward,
                {self._is_effect("qualify")} AS is_qualified,
                {self._is_effect("disqualify")} AS is_disqualified,
                {self._is_effect("close_won")} AS is_won,
                {self._is_effect("close_lost")} AS is_lost,
                {self._is_effect("reopen")} AS is_reopened,
                {self._is_effect("reactivate")} AS is_reactivated,
                {self._rate("tr.effect", "qualify", "disqualify")} AS qualification_rate,
                CASE WHEN log.record_origin = 'reactivated'
                     THEN {self._rate("tr.effect", "qualify", "disqualify")}
                END AS reactivated_qualification_rate,
                {self._rate("tr.effect", "close_won", "close_lost")} AS win_rate,
                CASE WHEN {self._not_reopened("log")}
                     THEN {self._rate("tr.effect", "close_won", "close_lost")}
                END AS first_pass_win_rate,
                CASE WHEN log.record_origin = 'reopened'
                     THEN {self._rate("tr.effect", "close_won", "close_lost")}
                END AS reopened_win_rate,
                CASE WHEN tr.effect = 'reopen'
                     THEN {days_between("log.date_from_step", "log.date")}
                END AS days_to_reopen,
                CASE WHEN tr.effect = 'reactivate'
                     THEN {days_between("log.date_from_step", "log.date")}
                END AS days_to_reactivate
            FROM crm_sales_process_log log
            LEFT JOIN crm_sales_process process ON process.id = log.process_id
            JOIN crm_sales_process_step to_step ON to_step.id = log.to_step_id
            LEFT JOIN crm_sales_process_step from_step ON from_step.id = log.from_step_id
            LEFT JOIN crm_sales_process_transition tr ON tr.id = log.transition_id
        """

    def _summary_query(self, read):
        """The view of _query() over summary rows and the lines they do not
        stand for (alias ``log``, ``log.n`` lines each): a flag is multiplied
        by the lines, a rate or a duration becomes its sum and its count
        (<measure>__sum, <measure>__count) under the same conditions."""
        leaves = self._leaves_step("log")
        days = days_between("log.date_from_step", "log.date")
        rows = SQL(
            """
            SELECT s.transition_id, s.from_step_id, s.to_step_id, s.owner_id, s.team_id, s.company_id,
                   s.record_origin, s.date_min AS date, s.line_count AS n, s.days_sum, s.days_count
              FROM crm_sales_process_log_summary s
             WHERE %s
            UNION ALL
            %s
            """,
            self._summary_clean(read, "s"),
            self._summary_lines(
                read,
                SQL(
                    f"""log.transition_id, log.from_step_id, log.to_step_id, log.owner_id, log.team_id,
                        log.company_id, log.record_origin, log.date, 1 AS n, {days} AS days_sum,
                        (log.date_from_step IS NOT NULL)::int AS days_count"""
                ),
            ),
        )

        def average(name, condition, value):
            # value: the line's figure (100, 0 or NULL for a rate), or None
            # for its days in the From Step (then summed by the row)
            if value is None:
                return (
                    f"CASE WHEN {condition} THEN log.days_sum END AS {name}__sum, "
                    f"CASE WHEN {condition} THEN log.days_count END AS {name}__count"
                )
            return (
                f"CASE WHEN {condition} THEN ({value}) * log.n END AS {name}__sum, "
                f"CASE WHEN {condition} AND ({value}) IS NOT NULL THEN log.n END AS {name}__count"
            )

        qualification = self._rate("tr.effect", "qualify", "disqualify")
        closing = self._rate("tr.effect", "close_won", "close_lost")
        flags = ",\n".join(
            f"{self._is_effect(effect)} * log.n AS is_{name}"
            for name, effect in (
                ("qualified", "qualify"),
                ("disqualified", "disqualify"),
                ("won", "close_won"),
                ("lost", "close_lost"),
                ("reopened", "reopen"),
                ("reactivated", "reactivate"),
            )
        )
        averages = ",\n".join(
            [
                average("days_in_step", leaves, None),
                average("qualification_rate", "TRUE", qualification),
                average("reactivated_qualification_rate", "log.record_origin = 'reactivated'", qualification),
                average("win_rate", "TRUE", closing),
                average("first_pass_win_rate", self._not_reopened("log"), closing),
                average("reopened_win_rate", "log.record_origin = 'reopened'", closing),
                average("days_to_reopen", "tr.effect = 'reopen'", None),
                average("days_to_reactivate", "tr.effect = 'reactivate'", None),
            ]
        )
        return SQL(
            f"""
            SELECT
                to_step.workflow_id,
                log.transition_id,
                tr.effect,
                log.from_step_id,
                log.to_step_id,
                log.owner_id,
                log.team_id,
                log.company_id,
                log.date,
                log.record_origin,
                log.n AS __lines,
                CASE WHEN log.transition_id IS NOT NULL
                      AND to_step.outcome != 'lost'
                      AND to_step.sequence > from_step.sequence
                     THEN log.n ELSE 0 END AS is_forward,
                {flags},
                {averages}
            FROM (%s) log
            JOIN crm_sales_process_step to_step ON to_step.id = log.to_step_id
            LEFT JOIN crm_sales_process_step from_step ON from_step.id = log.from_step_id
            LEFT JOIN crm_sales_process_transition tr ON tr.id = log.transition_id
            """,
            rows,
        )

    @api.model
    def _leaves_step(self, alias):
        """SQL: the log line ends a stay in its From Step (a transition that
        changes the step; a start has no From Step, a follow-up keeps it, a
        move to another workflow keeps the time in step running)."""
        return (
            f"{alias}.transition_id IS NOT NULL AND {alias}.from_step_id IS NOT NULL "
            f"AND {alias}.from_step_id != {alias}.to_step_id"
        )

    @api.model
    def _is_effect(self, effect):
        """SQL: 1 on a line of a transition of ``effect``, else 0 (a move to
        another workflow has no transition: its NULL effect is not one)."""
        return f"COALESCE(tr.effect = '{effect}', FALSE)::int"

    @api.model
    def _not_reopened(self, alias):
        """SQL: the record acted on was not made by a reopening (an origin
        left unset, on a line written before the analysis, counts as new)."""
        return f"{alias}.record_origin IS DISTINCT FROM 'reopened'"

    @api.model
    def _rate(self, column, success, failure):
        return f"CASE {column} WHEN '{success}' THEN 100::float8 WHEN '{failure}' THEN 0::float8 END"

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))
        # Workflows, steps and transitions are a few rows each, far below
        # autovacuum's analyze threshold: without statistics PostgreSQL takes
        # each for hundreds of rows, expects as many groups as log lines when
        # a pivot groups by step, and sorts the whole log instead of hashing it
        self.env.cr.execute("ANALYZE crm_sales_process_workflow, crm_sales_process_step, crm_sales_process_transition")

    # ------------------------------------------------------------------
    # The funnel (static/src/funnel): the processes with at least one row
    # in the search domain, how far each of them got. Read-only (answered
    # by the replica when there is one): tests/test_readonly.py
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def get_funnel_data(self, domain):
        """One funnel per workflow of the selected processes: for each step
        on the way to a win (outcome open or won, in workflow order), the
        processes that entered it (reach), of those the ones that went on to
        a later step of the funnel, the ones closed lost or disqualified
        without going further (dropped) and the ones still in progress.

        The steps each process reached are kept on it (steps_reached): the
        processes are counted by the set they reached, a few groups, and the
        funnel is added up from those."""
        self.check_access("read")
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            SELECT process.steps_reached, current.outcome = 'lost', count(*)
              FROM crm_sales_process process
              JOIN crm_sales_process_step current ON current.id = process.step_id
             WHERE process.id IN %s
             GROUP BY 1, 2
            """,
                self._funnel_selection(domain),
            )
        )
        groups = self.env.cr.fetchall()
        Step = self.env["crm.sales.process.step"].sudo().with_context(active_test=False)
        # in workflow order, then step order (the step's _order)
        funnel_steps = Step.search([("outcome", "!=", "lost")])
        following = {}
        for steps in funnel_steps.grouped("workflow_id").values():
            following.update(zip(steps, [*steps[1:], None], strict=True))
        by_id = {step.id: step for step in funnel_steps}
        counts = defaultdict(lambda: [0, 0, 0, 0])  # reach, to next, went on, dropped
        for reached_ids, lost, count in groups:
            reached = {by_id[step_id] for step_id in reached_ids or () if step_id in by_id}
            if not reached:
                continue
            furthest = max(step.sequence for step in reached)
            for step in reached:
                bar = counts[step]
                bar[0] += count
                bar[1] += count if following[step] in reached else 0
                bar[2] += count if furthest > step.sequence else 0
                bar[3] += count if furthest == step.sequence and lost else 0
        funnels = []
        for workflow, steps in funnel_steps.filtered(lambda s: s in counts).grouped("workflow_id").items():
            bars = []
            for step in steps:
                reach, to_next, went_on, dropped = counts[step]
                next_step = following[step]
                bars.append(
                    {
                        "step_id": step.id,
                        "name": step.with_env(self.env).name,
                        "outcome": step.outcome,
                        "reach": reach,
                        "went_on": went_on,
                        "dropped": dropped,
                        "in_progress": 0 if step.outcome == "won" else reach - went_on - dropped,
                        "next_name": next_step.with_env(self.env).name if next_step else False,
                        "to_next": to_next,
                        "conversion": round(100.0 * to_next / reach, 1) if next_step else False,
                    }
                )
            funnels.append({"workflow_id": workflow.id, "workflow": workflow.with_env(self.env).name, "bars": bars})
        return funnels

    @api.model
    def _funnel_selection(self, domain):
        """SQL: the ids of the processes with at least one row of the
        analysis in ``domain``, under the user's record rules.

        From the processes' facts (date_started, date_changed) when the
        domain only compares the date and the rules only ask for the
        process's owner (or a company every line is in): a process has a
        line in the dates when its first or its last step change does, or a
        line that changed no step (a follow-up, read by its index) does, or,
        when it started before and changed after them, one of its lines
        does. Any other search reads the log."""
        dates = self._date_conditions(Domain(domain).optimize_full(self))
        rules = self._process_rules()
        if dates is None or rules is None:
            return self._search(domain).subselect("process_id")
        Process = self.env["crm.sales.process"].sudo().with_context(active_test=False)
        query = Process._search(rules)
        if dates:

            def within(column):
                return SQL(" AND ").join(SQL("%s %s %s", column, SQL(operator), value) for operator, value in dates)

            started, changed = SQL.identifier(query.table, "date_started"), SQL.identifier(query.table, "date_changed")
            query.add_where(
                SQL(
                    """(CASE WHEN %(started_in)s OR %(changed_in)s THEN TRUE
                             WHEN %(started)s < %(changed)s THEN EXISTS (
                                  SELECT 1 FROM crm_sales_process_log log
                                   WHERE log.process_id = %(id)s AND %(line_in)s)
                        END
                        OR %(id)s IN (SELECT log.process_id FROM crm_sales_process_log log
                                       WHERE log.from_step_id = log.to_step_id AND %(line_in)s))""",
                    started_in=within(started),
                    changed_in=within(changed),
                    started=started,
                    changed=changed,
                    id=SQL.identifier(query.table, "id"),
                    line_in=within(SQL("log.date")),
                )
            )
        query.add_where(SQL("%s IS NOT NULL", SQL.identifier(query.table, "date_started")))
        return query.subselect()

    @api.model
    def _date_conditions(self, domain):
        """[(operator, datetime)] when ``domain`` only compares the date
        (all of them must hold), else None."""
        if isinstance(domain, DomainBool):
            return [] if domain.is_true() else None
        children = domain.children if isinstance(domain, DomainNary) and domain.OPERATOR == "&" else [domain]
        conditions = []
        for child in children:
            if not (
                isinstance(child, DomainCondition)
                and child.field_expr == "date"
                and child.operator in (">", ">=", "<", "<=")
                and isinstance(child.value, datetime)
            ):
                return None
            conditions.append((child.operator, child.value))
        return conditions

    @api.model
    def _process_rules(self):
        """The user's record rules on the analysis as a domain on the
        processes, or None: the current owner is the process's; a rule on the
        line's company holds on every line when no line is of another
        company (one index probe per company)."""
        if self.env.su:
            return Domain.TRUE
        rules = self.env["ir.rule"]._compute_domain(self._name, "read")
        return self._on_processes(rules.optimize_full(self.sudo().with_context(active_test=False)))

    def _on_processes(self, domain):
        if isinstance(domain, DomainBool):
            return domain
        if isinstance(domain, DomainNary):
            children = [self._on_processes(child) for child in domain.children]
            if any(child is None for child in children):
                return None
            return Domain.AND(children) if domain.OPERATOR == "&" else Domain.OR(children)
        if not isinstance(domain, DomainCondition):
            return None
        if domain.field_expr == "process_owner_id":
            return Domain("user_id", domain.operator, domain.value)
        if domain.field_expr == "company_id" and domain.operator == "in":
            # a line of any other company? (the companies are few: a probe of
            # the index of the lines' company each)
            self.env.cr.execute(
                """SELECT EXISTS (SELECT 1 FROM res_company company
                                   WHERE company.id != ALL(%s) AND EXISTS (
                                         SELECT 1 FROM crm_sales_process_log log
                                          WHERE log.company_id = company.id))""",
                [[company for company in domain.value if company]],
            )
            return None if self.env.cr.fetchone()[0] else Domain.TRUE
        return None

    @api.model
    @api.readonly
    def action_open_funnel_processes(self, domain, step_id, kind="reach"):
        """The processes of one funnel bar: those of the selection that
        reached the step (``kind`` "reach"), or that were dropped there."""
        self.check_access("read")
        step = self.env["crm.sales.process.step"].browse(step_id).exists()
        if not step:
            raise UserError(self.env._("This step no longer exists; reload the analysis."))
        if kind not in ("reach", "dropped"):
            raise UserError(self.env._("Unknown funnel part %(kind)r.", kind=kind))
        # the processes of the funnel (get_funnel_data), by the steps they reached
        query = """
            SELECT process.id
              FROM crm_sales_process process
             WHERE process.id IN %s AND process.steps_reached @> jsonb_build_array(%s)
        """
        params = [self._funnel_selection(domain), step.id]
        if kind == "dropped":
            # closed lost or disqualified, never further along the funnel
            query += """
               AND EXISTS (
                    SELECT 1 FROM crm_sales_process_step cur
                     WHERE cur.id = process.step_id AND cur.outcome = 'lost')
               AND NOT EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(process.steps_reached) reached(step_id)
                      JOIN crm_sales_process_step s ON s.id = reached.step_id::int
                     WHERE s.outcome != 'lost' AND s.sequence > %s)
            """
            params.append(step.sequence)
        self.env.cr.execute(SQL(query, *params))
        ids = [row[0] for row in self.env.cr.fetchall()]
        name = (
            self.env._("Reached %(step)s", step=step.name)
            if kind == "reach"
            else self.env._("Dropped at %(step)s", step=step.name)
        )
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "crm.sales.process",
            "views": [[False, "list"], [False, "kanban"], [False, "form"]],
            "domain": [("id", "in", ids)],
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Demo data with a past (demo/crm_sales_process_demo.xml)
    # ------------------------------------------------------------------

    @api.model
    def _demo_build_history(self, users, teams, seed=10, count=90):
        build_demo_history(self.env, users, teams, seed=seed, count=count)
        # as the daily cron would have: the past days in the summary
        self.env["crm.sales.process.log.summary"].sudo()._fold()
