# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The analysis summary (crm.sales.process.log.summary) gives the figures of
the raw log, to the last digit, or is not used.

The history: the demo's (folded at install), plus one more built by the
demo history builder for the test's own salespeople, folded up to a time
inside a day (as if the cron had run before the later lines committed), so
that every read mixes summary rows, the lines of rows a read cannot use
(across a cut of its domain or a local midnight of its time zone) and lines
not folded yet. Each read is made twice, through the summary and with
``crm_sales_process_read_log`` (the SQL view over every log line), and the
results compared, floats within 1e-9."""

import math
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tools import SQL

from ..report.demo_history import build_demo_history
from .common import SalesProcessCase

REPORT = "crm.sales.process.report"
STEP_TIME = "crm.sales.process.step.time.report"
REPORT_MEASURES = [
    "__count",
    "qualification_rate:avg",
    "reactivated_qualification_rate:avg",
    "win_rate:avg",
    "first_pass_win_rate:avg",
    "reopened_win_rate:avg",
    "days_in_step:avg",
    "days_in_step:sum",
    "days_to_reopen:avg",
    "days_to_reactivate:avg",
    "is_forward:sum",
    "is_qualified:sum",
    "is_disqualified:sum",
    "is_won:sum",
    "is_lost:sum",
    "is_reopened:sum",
    "is_reactivated:sum",
]
STEP_TIME_MEASURES = ["__count", "days:avg", "days_median:avg", "days_p90:avg", "stay_count:sum"]
# pivot rows x columns, as the web client asks for them (see pivot())
REPORT_PIVOTS = [
    (["from_step_id"], ["date:month"]),
    (["owner_id"], ["date:week"]),
    (["team_id"], ["date:day"]),
    (["transition_id"], ["date:year"]),
    (["to_step_id", "record_origin"], ["date:quarter"]),
    (["workflow_id", "effect"], ["company_id"]),
]
STEP_TIME_PIVOTS = [
    (["step_id"], ["date_left:month"]),
    (["owner_id"], ["date_left:day"]),
    (["transition_id"], ["date_left:week"]),
]
TIMEZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]


def pivot(rows, cols):
    return [[], rows, cols, rows + cols]


@tagged("post_install", "-at_install")
class TestAnalysisSummary(SalesProcessCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Summary = cls.env["crm.sales.process.log.summary"]
        cls.env.flush_all()
        cls.env.cr.execute("SELECT count(*) FROM crm_sales_process_log WHERE summary_id IS NOT NULL")
        cls.demo_folded = cls.env.cr.fetchone()[0]
        cls.env.cr.execute("SELECT max(id) FROM crm_sales_process_log")
        last_demo_line = cls.env.cr.fetchone()[0]
        build_demo_history(
            cls.env,
            (cls.salesman | cls.salesman_2 | cls.manager).ids,
            cls.team.ids,
            seed=11,
            count=90,
        )
        cls.env.flush_all()
        # its twelve months squeezed into the last nine days (in order, the
        # times of day still spread), so that days hold several lines of a
        # transition and owner: rows that stand for several lines
        cls.env.cr.execute(
            """UPDATE crm_sales_process_log SET date = %(now)s - (%(now)s - date) / 40 WHERE id > %(last)s
               RETURNING process_id""",
            {"now": fields.Datetime.now(), "last": last_demo_line},
        )
        cls.env["crm.sales.process.log"]._recompute_step_dates({pid for (pid,) in cls.env.cr.fetchall()})
        cls.env.flush_all()
        # the cut of the test's fold: a few minutes past the median line,
        # inside a day in every time zone
        cls.env.cr.execute(
            """SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY date) + interval '7 minutes'
                 FROM crm_sales_process_log WHERE summary_id IS NULL"""
        )
        cls.fold_cut = cls.env.cr.fetchone()[0]
        # folded in two runs: the first before the test's users had their
        # time zones (its rows across a local midnight of theirs are read
        # line by line there), the second splitting the days at their local
        # midnights too
        cls.folded = cls.Summary._fold(before=cls.fold_cut - timedelta(days=3))
        cls.salesman.tz = "America/New_York"
        cls.salesman_2.tz = "Asia/Kolkata"
        cls.manager.tz = "Europe/Paris"
        cls.folded += cls.Summary._fold(before=cls.fold_cut)
        cls.env.cr.execute("ANALYZE crm_sales_process_log, crm_sales_process_log_summary")

    # -- helpers ------------------------------------------------------------

    @contextmanager
    def _queries(self):
        """The SQL run meanwhile, as text."""
        queries = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            queries.append(query.code if isinstance(query, SQL) else str(query))
            return execute(cr, query, params, log_exceptions)

        self.env.flush_all()
        with patch.object(Cursor, "execute", spy):
            yield queries

    def _both(self, model, domain, grouping_sets, aggregates, user=None, tz="UTC"):
        """The read through the summary, whether it read the summary, and
        the same read on the raw log."""
        Model = self.env[model].with_user(user or self.manager).with_context(tz=tz)
        with self._queries() as queries:
            summary = Model.formatted_read_grouping_sets(domain, grouping_sets, aggregates)
        used = any("FROM crm_sales_process_log_summary" in query for query in queries)
        raw = Model.with_context(crm_sales_process_read_log=True).formatted_read_grouping_sets(
            domain, grouping_sets, aggregates
        )
        return summary, used, raw

    def assertSameFigures(self, summary, raw, msg=""):
        self.assertEqual(len(summary), len(raw), msg)
        for summary_set, raw_set in zip(summary, raw, strict=True):
            self.assertTrue(raw_set or not summary_set, msg)
            self.assertEqual(len(summary_set), len(raw_set), msg)
            for summary_row, raw_row in zip(summary_set, raw_set, strict=True):
                self.assertEqual(set(summary_row), set(raw_row), msg)
                for key, value in raw_row.items():
                    got = summary_row[key]
                    if isinstance(value, float) or isinstance(got, float):
                        self.assertTrue(
                            isinstance(got, (int, float))
                            and not isinstance(got, bool)
                            and math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9),
                            f"{msg} {key}: {got!r} through the summary, {value!r} in the log ({raw_row})",
                        )
                    else:
                        self.assertEqual(got, value, f"{msg} {key} ({raw_row})")

    def assertExact(self, model, domain, grouping_sets, aggregates, user=None, tz="UTC", summary_used=True):
        summary, used, raw = self._both(model, domain, grouping_sets, aggregates, user=user, tz=tz)
        msg = f"{model} {grouping_sets} {domain} in {tz}:"
        self.assertEqual(used, summary_used, f"{msg} the summary read or not")
        self.assertTrue(raw[0] and raw[0][0]["__count"], f"{msg} nothing to compare")
        self.assertSameFigures(summary, raw, msg)

    def _domains(self):
        """No filter; a period cut inside a day (as datetimes and as the web
        client sends them, strings); steps."""
        steps = [self.steps["new_opportunity"].id, self.steps["new_lead"].id]
        # cuts between the lines of rows: those rows are read line by line
        self.env.cr.execute(
            """SELECT date_min + (date_max - date_min) / 2, from_step_id = ANY(%s)
                 FROM crm_sales_process_log_summary
                WHERE line_count > 2 AND date_min < date_max
                ORDER BY date_min""",
            [steps],
        )
        cuts = self.env.cr.fetchall()
        start, end = cuts[0][0], cuts[-1][0]
        step_cut = next(cut for cut, of_steps in reversed(cuts) if of_steps)
        return [
            [],
            [("date", ">=", start), ("date", "<", end)],
            [("date", ">", fields.Datetime.to_string(start)), ("date", "<=", fields.Datetime.to_string(end))],
            [("from_step_id", "in", steps), ("date", "<", step_cut)],
        ]

    def _all(self, model, pivots, measures, domain_field="date"):
        for tz in TIMEZONES:
            for domain in self._domains():
                domain = [(domain_field if term[0] == "date" else term[0], *term[1:]) for term in domain]
                if model == STEP_TIME:
                    domain = [("step_id" if term[0] == "from_step_id" else term[0], *term[1:]) for term in domain]
                for rows, cols in pivots:
                    with self.subTest(tz=tz, domain=domain, rows=rows, cols=cols):
                        self.assertExact(model, domain, pivot(rows, cols), measures, tz=tz)

    # -- the tests ----------------------------------------------------------

    def test_history_is_folded(self):
        self.assertTrue(self.demo_folded, "the demo history is folded at install")
        self.assertTrue(self.folded, "the test's fold folded lines")
        self.env.cr.execute(
            """SELECT count(*) FILTER (WHERE summary_id IS NULL AND date < %(cut)s),
                      count(*) FILTER (WHERE summary_id IS NULL AND date >= %(cut)s)
                 FROM crm_sales_process_log""",
            {"cut": self.fold_cut},
        )
        before, after = self.env.cr.fetchone()
        self.assertEqual(before, 0, "every line before the cut folded")
        self.assertTrue(after, "lines after it read one by one")
        self.env.cr.execute(
            """SELECT count(*), sum(line_count), count(*) FILTER (WHERE line_count > 1),
                      count(*) FILTER (WHERE period = 'day' AND date_min::date != date_max::date),
                      count(*) FILTER (WHERE period = 'month'
                                         AND date_trunc('month', date_min) != date_trunc('month', date_max)),
                      count(*) FILTER (WHERE period = 'month' AND date_min::date != date_max::date),
                      count(*) FILTER (WHERE period = 'day' AND date_min < date_trunc('month', %(cut)s))
                 FROM crm_sales_process_log_summary""",
            {"cut": self.fold_cut},
        )
        rows, lines, shared, day_across, month_across, month_rows, old_days = self.env.cr.fetchone()
        self.assertTrue(shared, "rows that stand for several lines")
        self.assertLess(rows, lines, "fewer rows than the lines they stand for")
        self.assertEqual(day_across, 0, "a day row holds one UTC day")
        self.assertEqual(month_across, 0, "a month row one UTC month")
        self.assertTrue(month_rows, "the months that were over when folded: by month")
        self.assertEqual(old_days, 0, "no day row of a month that was over")
        self.env.cr.execute("SELECT count(*) FROM crm_sales_process_log WHERE summary_id IS NOT NULL")
        self.assertEqual(self.env.cr.fetchone()[0], lines)

    def test_analysis_figures_exact(self):
        self._all(REPORT, REPORT_PIVOTS, REPORT_MEASURES)

    def test_time_in_step_figures_exact(self):
        self._all(STEP_TIME, STEP_TIME_PIVOTS, STEP_TIME_MEASURES, domain_field="date_left")

    def test_read_group_exact(self):
        """read_group / _read_group (graph view, funnel...) too."""
        for tz in TIMEZONES:
            Report = self.env[REPORT].with_user(self.manager).with_context(tz=tz)
            for groupby in (["from_step_id", "date:month"], ["date:day"], ["owner_id", "date:year"]):
                summary = Report._read_group([], groupby, ["win_rate:avg", "days_in_step:avg", "__count"])
                raw = Report.with_context(crm_sales_process_read_log=True)._read_group(
                    [], groupby, ["win_rate:avg", "days_in_step:avg", "__count"]
                )
                self.assertEqual(len(summary), len(raw))
                for got, want in zip(summary, raw, strict=True):
                    self.assertEqual(got[: len(groupby)], want[: len(groupby)])
                    for a, b in zip(got[len(groupby) :], want[len(groupby) :], strict=True):
                        self.assertTrue(a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (tz, groupby))
            old = Report.with_context(crm_sales_process_read_log=True).formatted_read_group(
                [], ["date:month"], ["is_won:sum", "__count"]
            )
            self.assertEqual(Report.formatted_read_group([], ["date:month"], ["is_won:sum", "__count"]), old)

    def test_manager_step_month_pivot_reads_the_summary(self):
        """The pivot the benchmark times reads the summary table, and the
        summary stands for most of the log's lines in it."""
        Report = self.env[REPORT].with_user(self.manager)
        with self._queries() as queries:
            Report.formatted_read_grouping_sets([], pivot(["from_step_id"], ["date:month"]), ["__count"])
        reads = [query for query in queries if "FROM crm_sales_process_log_summary" in query]
        self.assertEqual(len(reads), 1, "one query, on the summary")
        StepTime = self.env[STEP_TIME].with_user(self.manager)
        with self._queries() as queries:
            StepTime.formatted_read_grouping_sets(
                [], pivot(["step_id"], ["date_left:month"]), ["days_median:avg", "days_p90:avg"]
            )
        self.assertTrue([query for query in queries if "FROM crm_sales_process_log_summary" in query])
        # most lines through the summary rows, not one by one
        self.env.cr.execute("SELECT count(*) FROM crm_sales_process_log")
        lines = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT count(*), sum(line_count) FROM crm_sales_process_log_summary")
        rows, folded = self.env.cr.fetchone()
        self.assertGreater(folded, lines / 2)
        self.assertLess(rows, folded)

    def test_what_the_summary_cannot_answer_reads_the_log(self):
        some = self.env["crm.sales.process"].search([], limit=5)
        for domain, groupby, measures in (
            ([("process_id", "in", some.ids)], ["from_step_id"], ["__count"]),
            ([], ["user_id"], ["__count"]),
            ([], ["date:hour"], ["__count"]),
            ([("lead_id.name", "ilike", "chairs")], ["date:month"], ["win_rate:avg"]),
            ([], ["from_step_id"], ["days_in_step:max"]),
        ):
            with self.subTest(domain=domain, groupby=groupby):
                summary, used, raw = self._both(REPORT, domain, [groupby], measures)
                self.assertFalse(used)
                self.assertEqual(summary, raw)

    def test_time_zone_the_fold_does_not_split_reads_the_log(self):
        """Nobody works in Kathmandu (UTC+5:45): a read there would find
        nearly every row across a local midnight, and reads the log."""
        self.assertTrue(self.Summary._splits_days_of("Asia/Kolkata"))
        self.assertFalse(self.Summary._splits_days_of("Asia/Kathmandu"))
        self.assertExact(
            REPORT, [], pivot(["from_step_id"], ["date:day"]), REPORT_MEASURES, tz="Asia/Kathmandu", summary_used=False
        )

    def test_rows_across_a_local_midnight_are_read_line_by_line(self):
        """The first fold did not split the days at Kolkata's midnight: its
        rows holding lines of two local days there are read line by line
        (the others as rows), to the same figures."""
        self.env.cr.execute(
            """SELECT count(*) FILTER (WHERE date_trunc('day', timezone('Asia/Kolkata', timezone('UTC', date_min)))
                                          != date_trunc('day', timezone('Asia/Kolkata', timezone('UTC', date_max)))),
                      count(*) FILTER (WHERE line_count > 1)
                 FROM crm_sales_process_log_summary"""
        )
        across, shared = self.env.cr.fetchone()
        self.assertTrue(across and shared)
        self.assertExact(REPORT, [], pivot(["owner_id"], ["date:day"]), REPORT_MEASURES, tz="Asia/Kolkata")

    def test_percentiles_by_bins_equal_percentile_cont(self):
        """The median and 90th percentile of every cell, from the stays of
        the bins that hold them (a read of the bins, then of their stays),
        are PostgreSQL's percentile_cont over all the stays of the cell."""
        pivot_sets = pivot(["step_id"], ["date_left:month"])
        self.assertExact(STEP_TIME, [], pivot_sets, STEP_TIME_MEASURES)
        with self._queries() as queries:
            self.env[STEP_TIME].with_user(self.manager).formatted_read_grouping_sets([], pivot_sets, STEP_TIME_MEASURES)
        self.assertFalse(any("percentile_cont" in query for query in queries), "no stay sorted but in its bin")
        # a salesman's own rows (the log's view, a few stays) sort them
        # instead; his figures: test_salesman_reads_the_log_and_only_his_rows
        with self._queries() as queries:
            self.env[STEP_TIME].with_user(self.salesman).formatted_read_grouping_sets(
                [], pivot_sets, STEP_TIME_MEASURES
            )
        self.assertTrue(any("percentile_cont" in query for query in queries), "a salesman's stays sorted")

    def test_salesman_reads_the_log_and_only_his_rows(self):
        """A salesman's record rule is on his processes: not in a summary
        row. He reads the log, his rows only."""
        for model, rows, cols, measures in (
            (REPORT, ["from_step_id"], ["date:month"], REPORT_MEASURES),
            (STEP_TIME, ["step_id"], ["date_left:month"], STEP_TIME_MEASURES),
        ):
            self.assertExact(model, [], pivot(rows, cols), measures, user=self.salesman, summary_used=False)
            [[mine]] = self.env[model].with_user(self.salesman).formatted_read_grouping_sets([], [[]], ["__count"])
            [[theirs]] = (
                self.env[model]
                .with_user(self.manager)
                .formatted_read_grouping_sets(
                    ["|", ("process_id.user_id", "=", self.salesman.id), ("process_id.user_id", "=", False)],
                    [[]],
                    ["__count"],
                )
            )
            self.assertEqual(mine["__count"], theirs["__count"])
            self.assertTrue(mine["__count"])

    def _folded_line(self, offset=0):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT log.id FROM crm_sales_process_log log
                 JOIN crm_sales_process_log_summary s ON s.id = log.summary_id
                WHERE s.line_count > 1 AND log.owner_id = %s
                ORDER BY log.id OFFSET %s LIMIT 1""",
            [self.salesman.id, offset],
        )
        return self.env["crm.sales.process.log"].browse(self.env.cr.fetchone()[0])

    def _assert_pivots_exact(self):
        for tz in ("UTC", "Asia/Kolkata"):
            self.assertExact(REPORT, [], pivot(["from_step_id"], ["date:month"]), REPORT_MEASURES, tz=tz)
            self.assertExact(REPORT, [], pivot(["owner_id"], ["date:day"]), REPORT_MEASURES, tz=tz)
            self.assertExact(
                STEP_TIME, [], pivot(["step_id", "owner_id"], ["date_left:day"]), STEP_TIME_MEASURES, tz=tz
            )

    def _row_of(self, line):
        return line.sudo().summary_id

    def test_log_write_unfolds_its_row(self):
        line = self._folded_line()
        row = self._row_of(line)
        others = line.sudo().search([("summary_id", "=", row.id), ("id", "!=", line.id)])
        self.assertTrue(others)
        # what a migration or a correction may do: the line moves by a day
        line.sudo().write({"date": line.date + timedelta(days=1, hours=2)})
        self.assertFalse(row.exists(), "the row that counted the line is gone")
        self.assertFalse(line.summary_id)
        self.assertFalse(others.summary_id, "its other lines are read one by one")
        self._assert_pivots_exact()
        # a write of what a row does not hold keeps it
        other = self._folded_line(offset=3)
        other_row = self._row_of(other)
        other.sudo().write({"note": "checked"})
        self.assertTrue(other_row.exists())
        self.assertEqual(other.summary_id, other_row)
        # the next fold takes them in again
        self.Summary._fold(before=self.fold_cut)
        self.assertTrue(line.summary_id)
        self._assert_pivots_exact()

    def test_log_unlink_unfolds_its_row(self):
        line = self._folded_line()
        row = self._row_of(line)
        line.sudo().unlink()
        self.assertFalse(row.exists())
        self._assert_pivots_exact()

    def test_process_unlink_unfolds_its_rows(self):
        process = self._folded_line().sudo().process_id
        rows = process.log_ids.summary_id
        self.assertTrue(rows)
        process.unlink()
        self.assertFalse(rows.exists())
        self._assert_pivots_exact()

    def test_cron_folds_the_past_days(self):
        cron = self.env.ref("crm_sales_process.ir_cron_sales_process_log_summary")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        self.assertEqual(cron.model_id.model, "crm.sales.process.log.summary")
        self.assertEqual(cron.code, "model._cron_fold()")
        # what the server action runs (method_direct_trigger would run it in
        # a cursor of its own, outside the test's transaction)
        cron.ir_actions_server_id.run()
        today = fields.Datetime.to_datetime(fields.Date.context_today(self.Summary.with_context(tz="UTC")))
        self.env.cr.execute(
            "SELECT count(*) FROM crm_sales_process_log WHERE summary_id IS NULL AND date < %s", [today]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "every line of the past days folded")
        self._assert_pivots_exact()
