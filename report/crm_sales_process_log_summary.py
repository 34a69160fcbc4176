# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The summary the analysis reads instead of the whole transition log.

A cron folds the log lines of the past days into summary rows, one per day
and per (transition, from step, to step, owner, channel, company, record
origin), holding the count of the lines, the sum and count of their durations
and, sorted, the durations themselves (the stays, for exact percentiles).
Each folded line points to its row (crm.sales.process.log.summary_id); the
lines not folded yet, today's and those a transaction commits late, are read
as they are. Nothing is updated by a transition: the engine's cost and its
concurrency stay as they were.

A pivot, graph or list grouping of the Sales Process Analysis and of Time in
Step reads the summary rows plus the lines not folded yet, when the grouping,
the filters and the record rules only use what a summary row holds (see
CrmSalesProcessSummaryReadMixin): every figure stays exact, since a rate is
a ratio of counts, an average a sum over a count and a percentile is taken
over the stays themselves. Anything else (a process, a record, the user who
ran the transition, a line-level measure) reads the log as before.
"""

import contextvars
import logging
import time as timer
from datetime import datetime, time, timedelta
from typing import NamedTuple

import pytz

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.models import READ_GROUP_NUMBER_GRANULARITY, parse_read_group_spec
from odoo.orm.domains import DomainBool, DomainCondition, DomainNary, DomainNot
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# The bins of the stays, in days: 16 per power of two (1, 1 + 1/16, ... times
# each power of two) from 2^-11 (42 seconds) to 2^15 (90 years), each about
# 4% wide. Exact binary fractions, so that a duration falls in the same bin at
# the fold and at a later query, on any machine (no logarithm). A bin narrows
# a percentile to the few stays that can hold it (see crm.sales.process.step.
# time.report._percentiles): stays of deals alike crowd into a few days, and
# wider bins hold most of them (4 per power of two: 300,000 of the
# benchmark's 400,000 stays to read), narrower ones make every row's list of
# bins as long as its list of stays (64: 3 times slower). Changing them means
# refolding: CrmSalesProcessLogSummary._unfold_all(), then _fold().
STAY_BIN_EDGES = tuple((1 + k / 16) * 2.0**e for e in range(-11, 16) for k in range(16))
_STAY_BIN_EDGES_SQL = "ARRAY[{}]::float8[]".format(", ".join(repr(edge) for edge in STAY_BIN_EDGES))

# groupings of a datetime that only depend on its local day
DAY_GRANULARITIES = frozenset(
    {"day", "week", "month", "quarter", "year"}
    | {name for name, part in READ_GROUP_NUMBER_GRANULARITY.items() if part not in ("hour", "minute", "second")}
)

# the time zones the fold splits the days at besides UTC (the most used ones)
MAX_FOLD_TIMEZONES = 4


def days_between(start, end):
    """SQL: the days from ``start`` to ``end``, with their fraction, as a
    double precision (an EXTRACT gives a numeric, much slower to aggregate)."""
    return f"(date_part('epoch', {end} - {start}) / 86400)"


def stay_bin(value):
    """SQL: the bin of a stay of ``value`` days (0 below the first edge)."""
    return f"width_bucket({value}, {_STAY_BIN_EDGES_SQL})"


# The period a summary row is within, in the date groupings of a read:
# "day" for a day, a week (its first day depends on the language) and the
# numbers of a day; the others for what they say.
PERIODS = ("day", "month", "quarter", "year")
GRANULARITY_PERIODS = {
    "month": "month",
    "month_number": "month",
    "quarter": "quarter",
    "quarter_number": "quarter",
    "year": "year",
    "year_number": "year",
}


def delete_rows_of_lines(summary, marker, where):
    """Delete the rows of ``summary`` (a model) that fold a log line
    matching the SQL condition ``where`` (alias ``log``), linked to its row
    by its column ``marker``; the database sets the lines' marker null."""
    summary.env.cr.execute(
        SQL(
            "DELETE FROM %s WHERE id IN (SELECT %s FROM crm_sales_process_log log WHERE %s IS NOT NULL AND %s)",
            SQL.identifier(summary._table),
            SQL.identifier("log", marker),
            SQL.identifier("log", marker),
            where,
        )
    )
    if summary.env.cr.rowcount:
        summary.env["crm.sales.process.log"].invalidate_model([marker])
        summary.invalidate_model()


class SummaryRead(NamedTuple):
    """A read_group answered from the summary: for which model, in which time
    zone its dates are grouped, the dates its domain compares with, and the
    shortest period its dates are grouped or filtered by (None if none)."""

    model: str
    tz: str | None
    cuts: tuple
    period: str | None


# Set around the read_group calls that the summary answers (see
# CrmSalesProcessSummaryReadMixin._read_group): a context variable, not a
# context key, since clients send the context over RPC.
_SUMMARY_READ = contextvars.ContextVar("crm_sales_process_summary_read", default=None)


class CrmSalesProcessLogSummary(models.Model):
    _name = "crm.sales.process.log.summary"
    _description = "Sales Process Analysis Summary"
    _log_access = False
    _order = "id"

    # the columns of the log lines a row folds, with the log's ondelete: a
    # deleted owner, channel or company leaves the rows as it leaves the lines
    transition_id = fields.Many2one("crm.sales.process.transition", ondelete="restrict", readonly=True)
    from_step_id = fields.Many2one("crm.sales.process.step", ondelete="restrict", readonly=True)
    to_step_id = fields.Many2one("crm.sales.process.step", ondelete="restrict", readonly=True)
    owner_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    record_origin = fields.Selection(
        lambda self: self.env["crm.sales.process.log"]._fields["record_origin"].selection, readonly=True
    )
    # the lines of a day of this month, or of a month before: a month's day
    # rows are folded again into month rows once it is over (see _fold)
    period = fields.Selection([("day", "Day"), ("month", "Month")], readonly=True)
    # the first and the last date of its lines: the row stands for them all in
    # a grouping by a period when both fall in the same local one
    date_min = fields.Datetime(readonly=True)
    date_max = fields.Datetime(readonly=True)
    line_count = fields.Integer(readonly=True)
    days_sum = fields.Float(readonly=True, help="Sum of the days each line's process had been in its From Step.")
    days_count = fields.Integer(readonly=True, help="Lines whose days in the From Step are known.")
    # Not Odoo fields (Odoo has no array field; init() adds them): the bins
    # of days (STAY_BIN_EDGES) of the stays the lines ended, the unknown ones
    # left out, ascending; how many stays each bin holds; and the stays of
    # each bin as text, sorted ("1.25,1.5"): float8 prints shortest-exact and
    # is read back to the same double, once at the fold rather than at every
    # read of a percentile.

    def init(self):
        # EXTERNAL: the stays are not compressed, a percentile reads those of
        # many rows and decompressing them would cost more than the disk
        self.env.cr.execute(
            """
            ALTER TABLE crm_sales_process_log_summary
                DROP COLUMN IF EXISTS stay_days,
                DROP COLUMN IF EXISTS stay_bin_ends,
                ADD COLUMN IF NOT EXISTS stay_bins int[],
                ADD COLUMN IF NOT EXISTS stay_bin_counts int[],
                ADD COLUMN IF NOT EXISTS stay_bin_days text[];
            ALTER TABLE crm_sales_process_log_summary ALTER COLUMN stay_bin_days SET STORAGE EXTERNAL;
            """
        )

    # ------------------------------------------------------------------
    # Folding the log
    # ------------------------------------------------------------------

    @api.model
    def _cron_fold(self):
        self._fold()

    @api.model
    def _fold(self, before=None):
        """Fold the log lines not folded yet and dated before ``before``
        (default: today, 00:00 UTC, so that a day is folded once it is over,
        into one row per group) into new summary rows; return how many.

        One statement: the lines it folds are exactly those it links to the
        rows it inserts, whatever commits meanwhile (a line committed after
        its snapshot waits for the next fold; a concurrent change of a line
        makes it fail to serialize, and the next run folds it)."""
        if before is None:
            before = datetime.combine(fields.Date.today(), time.min)
        self.env.flush_all()
        # a first fold (an upgrade) may take a while: say what is going on
        _logger.info("Folding the sales process log before %s into the analysis summary...", before)
        started = timer.monotonic()
        report = self.env["crm.sales.process.report"]
        leaves = report._leaves_step("l")
        # the lines of the months that are over fold by month, this month's
        # by day; a month's day rows go back to its lines once it is over
        month = datetime(before.year, before.month, 1)
        self.env.cr.execute("DELETE FROM crm_sales_process_log_summary WHERE period = 'day' AND date_min < %s", [month])
        # a period splits at the local midnights of the time zones in use, so
        # that its rows stay within one local day or month there too, and a
        # month at their changes of UTC offset (a row has one, see _summary_clean)
        local_periods = []
        for tz in self._fold_timezones():
            local = SQL("timezone(%s, timezone('UTC', l.date))", tz)
            local_periods += [
                SQL("date_trunc(p.period, %s)", local),
                SQL("CASE WHEN p.period = 'month' THEN %s - l.date END", local),
            ]
        self.env.cr.execute(
            SQL(
                """
            WITH line AS MATERIALIZED (
                SELECT l.id, l.transition_id, l.from_step_id, l.to_step_id, l.owner_id, l.team_id,
                       l.company_id, l.record_origin, l.date, p.period, %(days)s AS days, %(leaves)s AS leaves,
                       dense_rank() OVER (ORDER BY p.period, date_trunc(p.period, l.date), %(local_periods)s
                                          l.transition_id, l.from_step_id, l.to_step_id, l.owner_id,
                                          l.team_id, l.company_id, l.record_origin) AS grp
                  FROM crm_sales_process_log l,
                       LATERAL (SELECT CASE WHEN l.date < %(month)s THEN 'month' ELSE 'day' END AS period) p
                 WHERE l.summary_id IS NULL AND l.date < %(before)s
            ), grp AS MATERIALIZED (
                SELECT grp, nextval('crm_sales_process_log_summary_id_seq') AS id, min(period) AS period,
                       min(transition_id) AS transition_id, min(from_step_id) AS from_step_id,
                       min(to_step_id) AS to_step_id, min(owner_id) AS owner_id, min(team_id) AS team_id,
                       min(company_id) AS company_id, min(record_origin) AS record_origin,
                       min(date) AS date_min, max(date) AS date_max, count(*) AS line_count,
                       sum(days) AS days_sum, count(days) AS days_count,
                       array_agg(days ORDER BY days) FILTER (WHERE leaves AND days IS NOT NULL) AS stay_days,
                       array_agg(id) AS line_ids
                  FROM line
                 GROUP BY grp
            ), inserted AS (
                INSERT INTO crm_sales_process_log_summary (
                    id, period, transition_id, from_step_id, to_step_id, owner_id, team_id, company_id,
                    record_origin, date_min, date_max, line_count, days_sum, days_count,
                    stay_bins, stay_bin_counts, stay_bin_days)
                SELECT grp.id, grp.period, grp.transition_id, grp.from_step_id, grp.to_step_id, grp.owner_id,
                       grp.team_id, grp.company_id, grp.record_origin, grp.date_min, grp.date_max,
                       grp.line_count, grp.days_sum, grp.days_count, bins.bins, bins.counts, bins.days
                  FROM grp
                  LEFT JOIN LATERAL (
                        SELECT array_agg(bin ORDER BY bin) AS bins, array_agg(n ORDER BY bin) AS counts,
                               array_agg(days ORDER BY bin) AS days
                          FROM (SELECT %(bin)s AS bin, count(*)::int AS n, string_agg(v::text, ',' ORDER BY v) AS days
                                  FROM unnest(grp.stay_days) AS u(v)
                                 GROUP BY 1) b
                  ) bins ON TRUE
            )
            -- the lines by their row's list, not by joining line and grp
            -- back: after a large unfold the statistics still see few lines
            -- to fold, and a nested loop over the two would be quadratic
            UPDATE crm_sales_process_log l
               SET summary_id = folded.id
              FROM (SELECT grp.id, unnest(grp.line_ids) AS line_id FROM grp) folded
             WHERE l.id = folded.line_id
            """,
                days=SQL(days_between("l.date_from_step", "l.date")),
                leaves=SQL(leaves),
                local_periods=SQL("").join(SQL("%s, ", part) for part in local_periods),
                month=month,
                before=before,
                bin=SQL(stay_bin("u.v")),
            )
        )
        folded = self.env.cr.rowcount
        _logger.info("Folded %d log lines into the analysis summary in %.1f s", folded, timer.monotonic() - started)
        self.env["crm.sales.process.log"].invalidate_model(["summary_id"])
        self.env["crm.sales.process.stay.summary"]._fold(before)
        return folded

    @api.model
    def _fold_timezones(self):
        """The time zones of the internal users, the most used first, but
        UTC's kind (a UTC day needs no split)."""
        self.env.cr.execute(
            """
            SELECT partner.tz
              FROM res_users users JOIN res_partner partner ON partner.id = users.partner_id
             WHERE users.active AND NOT users.share AND partner.tz IS NOT NULL
             GROUP BY partner.tz
             ORDER BY count(*) DESC, partner.tz
            """
        )
        now = datetime.now()
        zones = [
            tz
            for (tz,) in self.env.cr.fetchall()
            if tz in pytz.all_timezones_set and pytz.timezone(tz).utcoffset(now) != timedelta(0)
        ]
        return zones[:MAX_FOLD_TIMEZONES]

    @api.model
    def _splits_days_of(self, tz):
        """Whether the fold splits the days at the local midnights of ``tz``
        (by its UTC offset today: Europe/Paris is split as Europe/Brussels
        is), so that its rows hold one local day there."""
        now = datetime.now()
        offset = pytz.timezone(tz).utcoffset(now)
        return offset == timedelta(0) or any(
            pytz.timezone(zone).utcoffset(now) == offset for zone in self._fold_timezones()
        )

    # ------------------------------------------------------------------
    # Unfolding: the lines go back to being read one by one
    # ------------------------------------------------------------------

    @api.model
    def _unfold_lines(self, where):
        """Delete the rows that fold any log line matching the SQL condition
        ``where`` (on the alias ``log``); their lines, all of them, are read
        one by one again (log.summary_id is set null by the database) and
        folded anew by the next fold. For what rewrites or deletes lines:
        a row must never count a line that is no longer what it was."""
        self.env.flush_all()
        delete_rows_of_lines(self, "summary_id", where)
        self.env["crm.sales.process.stay.summary"]._unfold_lines(where)

    @api.model
    def _unfold_all(self):
        self._unfold_lines(SQL("TRUE"))


class CrmSalesProcessSummaryReadMixin(models.AbstractModel):
    """A report model over the log whose read_group calls are answered from
    the summary when they can be.

    A model using it declares which of its fields a summary row holds as they
    are (``_summary_keys``: filters and groupings on them are exact), its
    datetime field (``_summary_date``), its measures (``_summary_averages``:
    read as SUM(<name>__sum) / SUM(<name>__count); ``_summary_sums``: summed
    as they are), and writes ``_summary_query()``: the rows of the summary
    that hold whole groups, plus every line not in them, with those columns
    and ``__lines`` (how many lines a row stands for)."""

    _name = "crm.sales.process.summary.read.mixin"
    _description = "Sales Process report read from the summary"

    _summary_keys = frozenset()
    _summary_date = "date"
    _summary_averages = frozenset()
    _summary_sums = frozenset()
    # the table of the rows, and the log's column that links a line to its row
    _summary_table = "crm_sales_process_log_summary"
    _summary_marker = "summary_id"

    @property
    def _table_query(self):
        read = self._summary_reading()
        if read is not None:
            return self._summary_query(read)
        return None  # the SQL view of init(): one row per log line

    def _summary_reading(self):
        """The SummaryRead of the read_group under way on this model, if any."""
        read = _SUMMARY_READ.get()
        return read if read is not None and read.model == self._name else None

    def _summary_query(self, read):
        raise NotImplementedError

    # -- which reads the summary answers ----------------------------------

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        read = self._summary_read(domain, groupby, aggregates, having, order)
        if read is None:
            return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
        token = _SUMMARY_READ.set(read)
        try:
            return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
        finally:
            _SUMMARY_READ.reset(token)

    @api.model
    def _read_grouping_sets(self, domain, grouping_sets, aggregates=(), order=None):
        groupby = {spec for grouping_set in grouping_sets for spec in grouping_set}
        read = self._summary_read(domain, groupby, aggregates, (), order)
        if read is None:
            return super()._read_grouping_sets(domain, grouping_sets, aggregates, order)
        token = _SUMMARY_READ.set(read)
        try:
            return super()._read_grouping_sets(domain, grouping_sets, aggregates, order)
        finally:
            _SUMMARY_READ.reset(token)

    @api.model
    def _summary_read(self, domain, groupby, aggregates, having, order):
        """A SummaryRead when every part of the read is constant over the
        lines of a summary row (then the row can stand for them), else None."""
        if self.env.context.get("crm_sales_process_read_log"):
            return None  # asked for the log itself (tests compare both ways)
        # the aggregates, those the having filters on and those the groups
        # are ordered by
        specs = list(aggregates) + [item[0] for item in having or () if isinstance(item, (list, tuple))]
        for part in (order or "").split(","):
            term = part.strip().split(" ")[0]
            if term and term not in groupby:
                specs.append(term)
        if not all(self._summary_aggregate_ok(spec) for spec in specs):
            return None
        periods = set()
        for spec in groupby:
            fname, path, granularity = parse_read_group_spec(spec)
            if fname == self._summary_date:
                if path or granularity not in DAY_GRANULARITIES:
                    return None
                periods.add(GRANULARITY_PERIODS.get(granularity, "day"))
            elif fname not in self._summary_keys:
                return None
        cuts = set()
        if not self._summary_domain_ok(Domain(domain).optimize_full(self), cuts, periods):
            return None
        if not self.env.su:
            # the record rules are applied to the rows read: on the summary
            # only when they filter on what a row holds (the company for a
            # user who sees every process; not a salesman's own processes)
            rules = self.env["ir.rule"]._compute_domain(self._name, "read")
            if not self._summary_domain_ok(
                rules.optimize_full(self.sudo().with_context(active_test=False)), cuts, periods
            ):
                return None
        period = min(periods, key=PERIODS.index) if periods else None
        tz = self.env.context.get("tz")
        tz = tz if tz in pytz.all_timezones_set else None
        if period and tz and not self.env["crm.sales.process.log.summary"]._splits_days_of(tz):
            # exact still, but nearly every row would hold lines of two local
            # days there and be read line by line: slower than the log's view
            return None
        return SummaryRead(self._name, tz, tuple(sorted(cuts)), period)

    def _summary_aggregate_ok(self, spec):
        if spec == "__count":
            return True
        fname, path, func = parse_read_group_spec(spec)
        if path:
            return False
        if fname in self._summary_averages:
            return func in ("avg", "sum")
        return fname in self._summary_sums and func == "sum"

    def _summary_domain_ok(self, domain, cuts, periods):
        """Whether ``domain`` is constant over the lines of a summary row;
        the dates it compares ``_summary_date`` with go into ``cuts`` (a row
        whose lines lie on both sides of one is read line by line), the
        periods its parts of a date (date.month_number...) into ``periods``."""
        if isinstance(domain, DomainBool):
            return True
        if isinstance(domain, DomainNot):
            return self._summary_domain_ok(domain.child, cuts, periods)
        if isinstance(domain, DomainNary):
            return all(self._summary_domain_ok(child, cuts, periods) for child in domain.children)
        if not isinstance(domain, DomainCondition):
            return False  # custom SQL
        fname, __, path = domain.field_expr.partition(".")
        if fname != self._summary_date:
            return fname in self._summary_keys
        if path:
            # date.month_number and the like: the local period decides
            periods.add(GRANULARITY_PERIODS.get(path, "day"))
            return path in DAY_GRANULARITIES
        values = domain.value if isinstance(domain.value, (list, tuple, set, frozenset)) else [domain.value]
        for value in values:
            if isinstance(value, datetime):
                cuts.add(value)
            elif value is not False:
                return False
        return True

    # -- the SQL of the summary -------------------------------------------

    def _summary_clean(self, read, alias):
        """SQL: the summary row ``alias`` stands for its lines in this read:
        they fall in one local period of the read's time zone (the shortest
        it groups or filters by, at one UTC offset), and on one side of every
        date the domain compares with."""
        conditions = []
        if read.period and read.tz:

            def local(column):
                return SQL("timezone(%s, timezone('UTC', %s))", read.tz, SQL.identifier(alias, column))

            conditions.append(
                SQL(
                    "date_trunc(%s, %s) = date_trunc(%s, %s) AND %s - %s = %s - %s",
                    read.period,
                    local("date_min"),
                    read.period,
                    local("date_max"),
                    local("date_min"),
                    SQL.identifier(alias, "date_min"),
                    local("date_max"),
                    SQL.identifier(alias, "date_max"),
                )
            )
        elif read.period:
            conditions.append(
                SQL(
                    "date_trunc(%s, %s) = date_trunc(%s, %s)",
                    read.period,
                    SQL.identifier(alias, "date_min"),
                    read.period,
                    SQL.identifier(alias, "date_max"),
                )
            )
        for cut in read.cuts:
            conditions.append(
                SQL(
                    "NOT (%(min)s <= %(cut)s AND %(cut)s <= %(max)s AND %(min)s < %(max)s)",
                    min=SQL.identifier(alias, "date_min"),
                    max=SQL.identifier(alias, "date_max"),
                    cut=cut,
                )
            )
        return SQL(" AND ").join(conditions) if conditions else SQL("TRUE")

    def _summary_lines(self, read, columns, where=None):
        """SQL: the log lines (alias ``log``) the summary does not stand for
        in this read, those not folded yet and those of the rows that do not
        hold a whole group, with ``columns``."""
        where = where or SQL("TRUE")
        clean = self._summary_clean(read, "s")
        marker = SQL.identifier("log", self._summary_marker)
        unfolded = SQL(
            "SELECT %s FROM crm_sales_process_log log WHERE %s IS NULL AND %s",
            columns,
            marker,
            where,
        )
        if clean == SQL("TRUE"):
            return unfolded
        # the rows first, then their lines by the index of the marker (a join
        # would read every line: PostgreSQL cannot tell how few rows are not clean)
        return SQL(
            """%s
            UNION ALL
            SELECT %s FROM crm_sales_process_log log
             WHERE %s = ANY(ARRAY(SELECT s.id FROM %s s WHERE NOT (%s))) AND %s""",
            unfolded,
            columns,
            marker,
            SQL.identifier(self._summary_table),
            clean,
            where,
        )

    # -- the aggregates -----------------------------------------------------

    def _read_group_select(self, aggregate_spec, query):
        if self._summary_reading() is None:
            return super()._read_group_select(aggregate_spec, query)
        return self._summary_select(aggregate_spec, query)

    def _summary_select(self, aggregate_spec, query):
        def column(name):
            return SQL.identifier(self._table, name)

        if aggregate_spec == "__count":
            return SQL("SUM(%s)", column("__lines"))
        fname, __, func = parse_read_group_spec(aggregate_spec)
        if fname in self._summary_averages:
            if func == "sum":
                return SQL("SUM(%s)", column(f"{fname}__sum"))
            return SQL("SUM(%s) / NULLIF(SUM(%s), 0)", column(f"{fname}__sum"), column(f"{fname}__count"))
        return SQL("SUM(%s)", column(fname))
