# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import contextvars
import math
from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.tools import SQL, unique

from .crm_sales_process_log_summary import stay_bin
from .crm_sales_process_report import days_between

# measure -> fraction of percentile_cont
PERCENTILES = {"days_median": 0.5, "days_p90": 0.9}

# Up to this many stays in a read, _percentiles reads them with their counts
# at once (a query less); beyond, it counts them first, then reads the stays
# of only the bins that hold the ranks wanted.
ONE_READ_STAYS = 100_000

# A step's 90th percentile says when a process is stuck there only once
# enough stays have ended in it: over two or three stays, or stays of a few
# seconds (a step that processes are moved through at once), it would flag
# every process that waits there at all.
STUCK_MIN_STAYS = 5

# What the rows of a read stand for, while its percentiles are worked out
# (see _percentiles): "bins", one row per bin of stays of each summary row
# and per line; "stays", one row per stay. A context variable, not a context
# key, since clients send the context over RPC.
_STAYS = contextvars.ContextVar("crm_sales_process_stays", default=None)


def _plain(key):
    """A group's key with its records as ids: hashed many times over."""
    return tuple(value.id if isinstance(value, models.BaseModel) else value for value in key)


class CrmSalesProcessStepTimeReport(models.Model):
    """Time in Step: one row per completed stay of a process in a step,
    from the log line that ended it (the owner and channel of that moment,
    the month it ended in).

    Median and 90th percentile are exact in every cell of a pivot, list or
    graph: each is PostgreSQL's percentile_cont over the stays of its cell
    (the rank fraction x (count - 1), between its two closest stays), not an
    average or a sum of per-row figures, which would be wrong for any
    grouping coarser than the rows. On one row both are the stay's own
    duration.

    A read_group takes them in three steps (_percentiles), each a read of
    the report itself, from the summary when it can answer (see
    crm.sales.process.report): the other measures; how many stays each of
    the finest cells holds in each bin of days (STAY_BIN_EDGES, folded with
    the summary rows); the stays of only the bins that hold the ranks
    wanted. Every cell of every grouping set, its total included, adds up
    its finest cells: no cell sorts more than the stays of one bin.
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
    stay_bin = fields.Integer(
        readonly=True, aggregator=False, help="Technical: the bin of days the stay falls in, from 1 (none if unknown)."
    )
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
                    {stay_bin(days)} + 1 AS stay_bin,
                    {days} AS days,
                    {days} AS days_median,
                    {days} AS days_p90
                FROM crm_sales_process_log log
                LEFT JOIN crm_sales_process process ON process.id = log.process_id
                JOIN crm_sales_process_step step ON step.id = log.from_step_id
                WHERE {leaves}
        """

    # what a summary row holds as it is (see crm.sales.process.summary.read.mixin)
    _summary_date = "date_left"
    _summary_averages = frozenset({"days"})
    _summary_sums = frozenset({"stay_count"})

    @property
    def _summary_keys(self):
        keys = frozenset({"workflow_id", "step_id", "transition_id", "owner_id", "team_id", "company_id"})
        # a row of bins or of stays has one bin
        return keys | {"stay_bin"} if _STAYS.get() else keys

    def _summary_query(self, read):
        """The summary rows and the lines they do not stand for: each row as
        it is (``__lines`` stays), or one row per bin of its stays, counted
        (while _percentiles counts them), and with them as text (while it
        takes them)."""
        report = self.env["crm.sales.process.report"]
        days = days_between("log.date_from_step", "log.date")
        stays = _STAYS.get()
        if stays == "bins":
            rows = SQL(
                """SELECT s.from_step_id, s.transition_id, s.owner_id, s.team_id, s.company_id, s.date_min,
                          b.bin + 1, b.n, NULL::float8, NULL, 0
                     FROM crm_sales_process_log_summary s,
                          unnest(s.stay_bins, s.stay_bin_counts) AS b(bin, n)"""
            )
        elif stays == "stays":
            # a row's stays of a bin as text (see the summary's stay_bin_days):
            # one row per bin, not per stay
            rows = SQL(
                """SELECT s.from_step_id, s.transition_id, s.owner_id, s.team_id, s.company_id, s.date_min,
                          b.bin + 1, b.n, NULL::float8, b.days, 1
                     FROM crm_sales_process_log_summary s,
                          unnest(s.stay_bins, s.stay_bin_counts, s.stay_bin_days) AS b(bin, n, days)"""
            )
        else:
            rows = SQL(
                """SELECT s.from_step_id, s.transition_id, s.owner_id, s.team_id, s.company_id, s.date_min,
                          NULL::int, s.line_count, s.days_sum, NULL::float8, s.days_count
                     FROM crm_sales_process_log_summary s"""
            )
        return SQL(
            """
            SELECT step.workflow_id, f.step_id, f.transition_id, f.owner_id, f.team_id, f.company_id,
                   f.date_left, f.stay_bin, f.n AS stay_count, f.n AS __lines, f.days_sum AS days__sum,
                   f.days_count AS days__count, f.days
              FROM (
                %s
                 WHERE %s AND %s
                UNION ALL
                %s
              ) f (step_id, transition_id, owner_id, team_id, company_id, date_left, stay_bin, n, days_sum, days,
                   days_count)
              -- a left join: PostgreSQL leaves it out when the read does not use the workflow
              LEFT JOIN crm_sales_process_step step ON step.id = f.step_id
            """,
            rows,
            SQL(report._leaves_step("s")),
            self._summary_clean(read, "s"),
            self._summary_lines(
                read,
                SQL(
                    f"""log.from_step_id, log.transition_id, log.owner_id, log.team_id, log.company_id,
                        log.date, {stay_bin(days)} + 1, 1, {days}, {days}{"::text" if stays == "stays" else ""},
                        (log.date_from_step IS NOT NULL)::int"""
                ),
                SQL(report._leaves_step("log")),
            ),
        )

    def _summary_aggregate_ok(self, spec):
        # the stays of a bin, while _percentiles takes them
        return (_STAYS.get() == "stays" and spec == "days:array_agg") or super()._summary_aggregate_ok(spec)

    def _summary_select(self, aggregate_spec, query):
        if aggregate_spec == "days:array_agg":
            # the stays of the rows of the cell, as text (see _summary_query)
            return SQL("string_agg(%s, ',')", SQL.identifier(self._table, "days"))
        return super()._summary_select(aggregate_spec, query)

    # -- the percentiles ---------------------------------------------------------

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        wanted = self._percentiles_wanted(domain, groupby, aggregates, having, order)
        if not wanted or offset or limit:
            return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
        rest = [spec for spec in aggregates if spec not in wanted] or ["__count"]
        rows = super()._read_group(domain, groupby, rest, having, offset, limit, order)
        [cells] = self._percentiles(domain, [groupby], self._stays_read([groupby], rest, [rows]))
        return [self._with_percentiles(row, len(groupby), aggregates, rest, cells) for row in rows]

    @api.model
    def _read_grouping_sets(self, domain, grouping_sets, aggregates=(), order=None):
        groupby = list(unique(spec for grouping_set in grouping_sets for spec in grouping_set))
        wanted = self._percentiles_wanted(domain, groupby, aggregates, (), order)
        if not wanted:
            return super()._read_grouping_sets(domain, grouping_sets, aggregates, order)
        rest = [spec for spec in aggregates if spec not in wanted] or ["__count"]
        results = super()._read_grouping_sets(domain, grouping_sets, rest, order)
        percentiles = self._percentiles(domain, grouping_sets, self._stays_read(grouping_sets, rest, results))
        return [
            [self._with_percentiles(row, len(groupby), aggregates, rest, cells) for row in rows]
            for groupby, rows, cells in zip(grouping_sets, results, percentiles, strict=True)
        ]

    def _percentiles_wanted(self, domain, groupby, aggregates, having, order):
        """The percentile aggregates of a read that _percentiles takes: when
        the summary answers it (the log's view of a few stays, a salesman's,
        sorts them faster with PostgreSQL's percentile_cont), and the groups
        are not filtered or sorted by one of them."""
        wanted = [spec for spec in aggregates if spec.partition(":")[0] in PERCENTILES and spec.endswith(":avg")]
        terms = [str(item[0]) for item in having or () if isinstance(item, (list, tuple))]
        terms += [part.strip().split(" ")[0] for part in (order or "").split(",")]
        if not wanted or any(term.partition(":")[0] in PERCENTILES for term in terms):
            return []
        rest = [spec for spec in aggregates if spec not in wanted]
        return wanted if self._summary_read(domain, groupby, rest, (), None) else []

    @staticmethod
    def _stays_read(grouping_sets, rest, results):
        """How many stays a read holds, from its results, or None."""
        if "__count" not in rest:
            return None
        column = len(grouping_sets[0]) + rest.index("__count")
        return sum(row[column] for row in results[0])

    @staticmethod
    def _with_percentiles(row, size, aggregates, rest, cells):
        figures = dict(zip(rest, row[size:], strict=True))
        values, __ = cells.get(_plain(row[:size]), ({}, 0))
        for spec in aggregates:
            if spec not in figures:
                figures[spec] = values.get(PERCENTILES[spec.partition(":")[0]])
        return (*row[:size], *(figures[spec] for spec in aggregates))

    @api.model
    def _percentiles(self, domain, grouping_sets, stays=None):
        """[{cell: ({fraction: value}, stays)}] for each grouping set: the
        percentiles of PERCENTILES of the stays of every cell (its key with
        ids for records, see _plain), and how many stays of a known length
        it holds. ``stays``: how many stays the read holds, when known (up
        to ONE_READ_STAYS, their counts and the stays themselves are read
        at once: one query less, a few stays more)."""
        finest = list(unique(spec for groupby in grouping_sets for spec in groupby))
        positions = [[finest.index(spec) for spec in groupby] for groupby in grouping_sets]
        cells_of = {}  # finest key -> its cell in each grouping set

        def cells(key):
            if key not in cells_of:
                cells_of[key] = [tuple(key[i] for i in indexes) for indexes in positions]
            return cells_of[key]

        # how many stays each cell holds in each bin, then where the ranks are
        # (a stay of unknown length has no bin: no rank either)
        texts = None
        if stays is not None and stays <= ONE_READ_STAYS:
            read = self._read_stays("stays", domain, finest, ["__count", "days:array_agg"])
            texts = {(_plain(key), bin_): days for *key, bin_, __, days in read if bin_}
            read = [(*key, bin_, count) for *key, bin_, count, __ in read if bin_]
        else:
            read = [row for row in self._read_stays("bins", domain, finest, ["__count"]) if row[-2]]
        counts = defaultdict(lambda: defaultdict(int))
        for *key, bin_, count in read:
            for index, cell in enumerate(cells(_plain(key))):
                counts[index, cell][bin_] += count
        located = {
            (index, cell, fraction): self._locate(bins, fraction)
            for (index, cell), bins in counts.items()
            for fraction in set(PERCENTILES.values())
        }
        needed = {(index, cell, bin_) for (index, cell, __), (ranks, __) in located.items() for bin_, __ in ranks}
        if texts is None:
            # the stays of those bins only
            bins = sorted({bin_ for __, __, bin_ in needed})
            read = self._read_stays("stays", [*domain, ("stay_bin", "in", bins)], finest, ["days:array_agg"])
            texts = {(_plain(key), bin_): days for *key, bin_, days in read if bin_}
        # each finest cell's stays of a bin read back once, each cell's sorted once
        gathered = defaultdict(list)
        for (key, bin_), days in texts.items():
            wanted = [(index, cell, bin_) for index, cell in enumerate(cells(key)) if (index, cell, bin_) in needed]
            if wanted:
                days = list(map(float, days.split(","))) if isinstance(days, str) else days
                for target in wanted:
                    gathered[target].extend(days)
        ordered = {target: sorted(days) for target, days in gathered.items()}
        result = [{} for __ in grouping_sets]
        for (index, cell), bins in counts.items():
            values = {}
            for fraction in set(PERCENTILES.values()):
                ranks, position = located[index, cell, fraction]
                low, high = (ordered[index, cell, bin_][rank] for bin_, rank in ranks)
                # percentile_cont's interpolation, as PostgreSQL computes it
                values[fraction] = low + (position - math.floor(position)) * (high - low)
            result[index][cell] = values, sum(bins.values())
        return result

    def _read_stays(self, mode, domain, finest, aggregates):
        """The read of ``aggregates`` by the finest cells and bin, over rows of
        bins or of stays (``mode``)."""
        token = _STAYS.set(mode)
        try:
            # no percentile among ``aggregates``: _read_group goes straight to Odoo's
            rows = self._read_group(domain, [*finest, "stay_bin"], aggregates)
        finally:
            _STAYS.reset(token)
        return rows

    @staticmethod
    def _locate(counts, fraction):
        """([(bin, rank in the bin)] of the two stays percentile_cont takes,
        the same twice when it falls on one; its position) for the stays
        counted by bin in ``counts`` (at least one)."""
        total = sum(counts.values())
        position = fraction * (total - 1)
        ranks, before = [], 0
        for bin_ in sorted(counts):
            for rank in (math.floor(position), math.ceil(position)):
                if before <= rank < before + counts[bin_]:
                    ranks.append((bin_, rank - before))
            before += counts[bin_]
        return ranks, position

    @api.model
    def _step_p90(self, step_ids):
        """{step id: 90th percentile of its completed stays, in days} over
        all the stays of those steps (every owner, channel and month), for
        the steps with at least STUCK_MIN_STAYS of them: as sudo since a
        threshold is a property of the step, not of the stays a user may
        read."""
        if not step_ids:
            return {}
        report = self.sudo().with_context(tz=False)
        [cells] = report._percentiles([("step_id", "in", list(step_ids))], [["step_id"]])
        return {
            step_id: values[PERCENTILES["days_p90"]]
            for (step_id,), (values, stays) in cells.items()
            if stays >= STUCK_MIN_STAYS
        }

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(self._query())))

    def _read_group_select(self, aggregate_spec, query):
        # the log's view, and the groups filtered or sorted by a percentile
        # (see _percentiles_wanted)
        fname, __, func = aggregate_spec.partition(":")
        if fname in PERCENTILES and func == "avg" and not self._summary_reading():
            return SQL(
                "percentile_cont(%s) WITHIN GROUP (ORDER BY %s)",
                PERCENTILES[fname],
                self._field_to_sql(self._table, "days", query),
            )
        return super()._read_group_select(aggregate_spec, query)
