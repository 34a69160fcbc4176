#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Side-by-side benchmark of the Sales Process transitions and Odoo's own
operations on identical records, in one run, on a scratch database that has
crm_sales_process installed (bin/benchmark makes one and drops it).

Each row runs both sides as a sales manager (access rules included), each on
its own fresh records, and counts the SQL queries and the wall time from the
call to the end of its flush (tracking messages included). A warm-up run of
every scenario comes first, so that caches are equally warm on both sides.

    bin/python scripts/benchmark.py --db DB --addons-path PATH [--processes 100000]

The f. rows compare the Sales Process Analysis (500,000 log lines: 100,000
processes made by the engine, four more lines each added by SQL) with
Odoo's own Pipeline Analysis pivot on the same 100,000 opportunities; the
rows without a goal are for information, against the same pivot. The g.
rows compare the same two pivots once the opportunities are copied (by
SQL) up to as many as the log has lines.
The h. row imports 2,000 leads (base_import, a CSV file) into a channel
that starts a process for every new lead and into one that does not; the
i. rows develop 500 opportunities with a 3-activity plan on Developed
Opportunity and without, and compare what the plan adds with Odoo's own
plan wizard on the same opportunities. --only hi runs those rows alone.
"""

import argparse
import contextlib
import statistics
import sys
import time
from unittest import mock

from lxml import etree

import odoo
from odoo import api
from odoo.modules.registry import Registry

ROWS = []


class Counter:
    def __init__(self):
        self.queries = 0
        self.seconds = 0.0


def run_deferred(env):
    """What a transition defers until after its commit (Odoo's lead scoring
    counts of the deals it closed) is counted with it: run it here, in the
    same transaction, as its post-commit hook would."""
    queued = env.cr.postcommit.data.pop("crm_sales_process.scoring_queue", [])
    if queued:
        env["crm.sales.process.scoring.queue"].sudo()._count(list(queued))
    queued.clear()  # the hook left registered finds nothing to do


@contextlib.contextmanager
def measure(env):
    """Queries and seconds of the block, flush, pre-commit hooks and deferred
    work included."""
    env.flush_all()
    env.cr.precommit.run()
    counter = Counter()
    before, start = env.cr.sql_log_count, time.perf_counter()
    yield counter
    env.flush_all()
    env.cr.precommit.run()
    run_deferred(env)
    env.flush_all()
    counter.seconds = time.perf_counter() - start
    counter.queries = env.cr.sql_log_count - before


def median(counters):
    """The median wall time of several runs, with their highest query count."""
    result = Counter()
    result.seconds = statistics.median(c.seconds for c in counters)
    result.queries = max(c.queries for c in counters)
    return result


def row(name, size, ours, native, goal):
    ROWS.append((name, size, ours, native, goal))
    # progress: the table comes at the end, after minutes
    print(
        f"  measured {name} ({size}): {ours.queries} vs {native.queries} queries, "
        f"{ours.seconds * 1000:.0f} vs {native.seconds * 1000:.0f} ms",
        file=sys.stderr,
        flush=True,
    )


def ratio(a, b):
    return a / b if b else float("inf") if a else 1.0


class Bench:
    def __init__(self, env):
        self.env = env
        self.manager = env["res.users"].search([("login", "=", "bench_manager")]) or env["res.users"].create(
            {
                "name": "Bench Manager",
                "login": "bench_manager",
                "email": "bench@example.com",
                "group_ids": [(6, 0, [env.ref("sales_team.group_sale_manager").id])],
            }
        )
        self.team = env["crm.team"].search([("name", "=", "Bench B2B")]) or env["crm.team"].create(
            {
                "name": "Bench B2B",
                "channel_type": "b2b",
                "member_ids": [(6, 0, self.manager.ids)],
            }
        )
        self.reason = env.ref("crm_sales_process.lost_reason_outsold")
        self.customer = env["res.partner"].create({"name": "Bench Customer", "is_company": True})
        self.menv = env(user=self.manager)
        self.seq = 0

    def leads(self, count, type="lead"):
        """``count`` fresh leads alike: a contact, an email, a company name
        (25 companies, several leads each, as in B2B)."""
        self.seq += 1
        vals = [
            {
                "name": f"Bench {self.seq} lead {i}",
                "type": type,
                "team_id": self.team.id,
                "user_id": self.manager.id,
                "contact_name": f"Contact {self.seq}-{i}",
                "email_from": f"contact{self.seq}x{i}@bench{i % 25}.example.com",
                "partner_name": f"Bench Company {self.seq}-{i % 25}",
                "expected_revenue": 1000 + i,
            }
            for i in range(count)
        ]
        return self.menv["crm.lead"].with_context(mail_create_nolog=True).create(vals)

    def processes(self, leads):
        Process = self.menv["crm.sales.process"]
        start = Process.start_from_lead if leads[:1].type == "lead" else Process.start_from_opportunity
        return Process.browse(start(leads.ids))

    # -- a. qualify vs Odoo's mass conversion wizard ---------------------------

    def qualify(self, size):
        ours = self.processes(self.leads(size))
        native = self.leads(size)
        with measure(self.env) as o:
            ours.run_transition("qualify")
        assert set(ours.opportunity_id.mapped("type")) == {"opportunity"}
        with measure(self.env) as n:
            self.menv["crm.lead2opportunity.partner.mass"].with_context(
                active_model="crm.lead", active_ids=native.ids
            ).create({}).action_mass_convert()
        assert set(native.mapped("type")) == {"opportunity"}
        return o, n

    # -- b. close as won / lost vs action_set_won / action_set_lost --------------

    def opportunities_in_process(self, size):
        return self.processes(self.leads(size, "opportunity"))

    def opportunities_like(self, processes):
        """Native opportunities identical to those of ``processes``: same
        values, same pipeline stage (the stage of their step)."""
        native = self.leads(len(processes), "opportunity")
        native.write({"stage_id": processes.opportunity_id[:1].stage_id.id})
        return native

    def close_won(self, size):
        ours = self.opportunities_in_process(size)
        native = self.opportunities_like(ours)
        with measure(self.env) as o:
            ours.run_transition("close_as_won", {"close_revenue": 1000})
        with measure(self.env) as n:
            native.action_set_won()
        assert set(native.mapped("won_status")) == {"won"} == set(ours.opportunity_id.mapped("won_status"))
        return o, n

    def close_lost(self, size, same_effect=False):
        """``same_effect``: the native side also does what the spec adds to
        Odoo's lost (revenue 0, a change its chatter tracks, as ours does)."""
        ours = self.opportunities_in_process(size)
        native = self.opportunities_like(ours)
        extra = {"expected_revenue": 0} if same_effect else {}
        with measure(self.env) as o:
            ours.run_transition("close_as_lost", {"lost_reason_id": self.reason.id})
        with measure(self.env) as n:
            native.action_set_lost(lost_reason_id=self.reason.id, **extra)
        assert (
            set(native.mapped("won_status"))
            == {"lost"}
            == set(ours.opportunity_id.with_context(active_test=False).mapped("won_status"))
        )
        return o, n

    # -- c. reopen / reactivate vs a plain copy() of the same records ------------

    def reopen(self, size):
        ours = self.opportunities_in_process(size)
        ours.run_transition("close_as_won", {"close_revenue": 1})
        native = ours.opportunity_id
        with measure(self.env) as o:
            ours.run_transition("reopen")
        with measure(self.env) as n:
            native.with_context(active_test=False).copy()
        return o, n

    def reactivate(self, size):
        ours = self.processes(self.leads(size))
        ours.run_transition("disqualify")
        native = ours.lead_id.with_context(active_test=False)
        with measure(self.env) as o:
            ours.run_transition("reactivate")
        with measure(self.env) as n:
            native.copy({"active": True})
        return o, n

    # -- d. the lead form with and without the transition buttons ---------------

    def form(self, warm, rounds=9):
        """20 calls per round; rounds alternate both sides and the median
        round counts: a call takes milliseconds, a single round is noise."""
        Lead = self.menv["crm.lead"]
        Transition = type(self.env["crm.sales.process.transition"])

        def get_views():
            if not warm:
                self.env.registry.clear_cache("templates")
            Lead.get_views([(False, "form")])

        def one_round(with_buttons):
            patch = (
                contextlib.nullcontext()
                if with_buttons
                else mock.patch.object(Transition, "_inject_header_buttons", lambda *a, **k: None)
            )
            with patch:
                self.env.registry.clear_cache("templates")
                get_views()
                with measure(self.env) as counter:
                    for __ in range(20):
                        get_views()
            return counter

        results = {True: [], False: []}
        for __ in range(rounds):
            for with_buttons in (True, False):
                results[with_buttons].append(one_round(with_buttons))
        self.env.registry.clear_cache("templates")
        return tuple(median(results[side]) for side in (True, False))

    # -- h. import into a channel that starts a process for every new lead --------

    def import_leads(self, size, rounds=3):
        """``size`` leads imported from a CSV file through base_import (what
        the Import button runs), into a channel that starts a process for
        every new lead and into one that does not; the rounds alternate, the
        median time counts."""
        Team = self.env["crm.team"]
        auto = Team.search([("name", "=", "Bench Auto B2B")]) or Team.create(
            {
                "name": "Bench Auto B2B",
                "channel_type": "b2b",
                "sales_process_auto_start_lead": True,
                "member_ids": [(6, 0, self.manager.ids)],
            }
        )
        columns = ["name", "type", "team_id/.id", "contact_name", "email_from", "partner_name"]

        def one(team):
            self.seq += 1
            csv = ",".join(columns) + "\n"
            csv += "".join(
                f"Bench {self.seq} import {i},lead,{team.id},Contact {i},"
                f"contact{self.seq}x{i}@bench{i % 25}.example.com,Bench Company {self.seq}-{i % 25}\n"
                for i in range(size)
            )
            importer = self.menv["base_import.import"].create(
                {"res_model": "crm.lead", "file": csv.encode(), "file_type": "text/csv", "file_name": "leads.csv"}
            )
            with measure(self.env) as counter:
                result = importer.execute_import(
                    columns, columns, {"quoting": '"', "separator": ",", "has_headers": True}
                )
            assert not result["messages"], result["messages"][:3]
            leads = self.env["crm.lead"].browse(result["ids"])
            assert len(leads) == size and bool(leads[:1].sales_process_id) == (team == auto)
            assert len(leads.sales_process_id) == (size if team == auto else 0)
            return counter

        results = {auto: [], self.team: []}
        for __ in range(rounds):
            for team in (auto, self.team):
                results[team].append(one(team))
        return median(results[auto]), median(results[self.team])

    # -- i. an activity plan on the step that develop enters ----------------------

    def develop_with_plan(self, size, rounds=3):
        """Develop ``size`` opportunities with a 3-activity plan on Developed
        Opportunity and without (rounds alternate), and Odoo's own plan
        wizard (Schedule Activities, the plan launched on many records) on
        the same opportunities: what the plan adds to the transition against
        what Odoo's wizard costs for the same activities."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        plan = self.env["mail.activity.plan"].create(
            {
                "name": "Bench plan",
                "res_model": "crm.lead",
                "template_ids": [
                    (
                        0,
                        0,
                        {
                            "activity_type_id": todo.id,
                            "summary": name,
                            "delay_count": days,
                            "delay_from": "after_plan_date",
                        },
                    )
                    for name, days in (("Demo call", 2), ("Budget check", 5), ("Proposal", 10))
                ],
            }
        )
        step = self.env.ref("crm_sales_process.step_developed_opportunity")
        saved = step.activity_plan_id
        runs = {"without": [], "with": [], "wizard": []}
        for __ in range(rounds):
            for side in ("without", "with"):
                step.activity_plan_id = plan if side == "with" else False
                processes = self.processes(self.leads(size, "opportunity"))
                with measure(self.env) as counter:
                    processes.run_transition("develop", {"partner_id": self.customer.id})
                runs[side].append(counter)
            with measure(self.env) as counter:
                self.menv["mail.activity.schedule"].create(
                    {"res_model": "crm.lead", "res_ids": repr(processes.opportunity_id.ids), "plan_id": plan.id}
                ).action_schedule_plan()
            runs["wizard"].append(counter)
            assert len(processes.opportunity_id.activity_ids) == 6 * size
        step.activity_plan_id = saved
        without, with_plan, wizard = (median(runs[side]) for side in ("without", "with", "wizard"))
        share = Counter()
        share.queries = with_plan.queries - without.queries
        share.seconds = with_plan.seconds - without.seconds
        return with_plan, without, share, wizard

    # -- e. grouping and the first list page at scale -----------------------------

    def populate(self, count):
        """``count`` opportunities, each in a process, in committed batches
        through the engine (tracking off: history is not what is measured)."""
        existing = self.env["crm.sales.process"].search_count([])
        while existing < count:
            size = min(2000, count - existing)
            opportunities = self.leads(size, "opportunity").sudo()
            self.env["crm.sales.process"].with_context(tracking_disable=True).start_from_opportunity(opportunities.ids)
            existing += size
            self.env.cr.commit()
            self.env.invalidate_all()
            print(f"  populated {existing} of {count} processes", file=sys.stderr, flush=True)

    def history(self):
        """The history the analysis reads: each process of populate() is one
        start_from_opportunity made by the engine; four log lines per process
        are added here by SQL in bulk (close as lost, reopen, close as won,
        reopen: the process ends in New Opportunity, where the engine left
        it), so that 100,000 processes have 500,000 log lines. Building them
        through the engine would take about half an hour more. Dates spread
        over the last twelve months (deterministic: from the ids), and the
        opportunities are dated like their processes, so that Odoo's
        pipeline pivot groups into as many months as ours."""
        cr = self.env.cr
        steps = {s.code: s.id for s in self.env.ref("crm_sales_process.workflow_b2b").step_ids}
        transitions = {t.code: t.id for t in self.env.ref("crm_sales_process.workflow_b2b").transition_ids}
        cr.execute(
            "SELECT count(*) FROM crm_sales_process_log WHERE transition_id != %s",
            [transitions["start_from_opportunity"]],
        )
        if cr.fetchone()[0]:
            return  # already there (a second run on a kept database)
        print("  adding 4 log lines per process by SQL...", file=sys.stderr, flush=True)
        cr.execute(
            """
            UPDATE crm_sales_process_log
               SET date = (now() AT TIME ZONE 'UTC') - interval '365 days'
                          + (process_id * 7919 %% 1000) * interval '5 hours'
             WHERE transition_id = %(start)s;
            INSERT INTO crm_sales_process_log (
                process_id, transition_id, from_step_id, to_step_id, user_id, date, values,
                lead_id, company_id, owner_id, team_id, record_origin,
                create_uid, create_date, write_uid, write_date)
            SELECT log.process_id, t.transition, t.from_step, t.to_step, log.user_id,
                   log.date + t.day * interval '1 day' + (log.process_id * t.prime %% 997) * interval '15 minutes',
                   '{}'::jsonb, log.lead_id, log.company_id, log.owner_id, log.team_id, t.origin,
                   log.user_id, log.create_date, log.user_id, log.create_date
              FROM crm_sales_process_log log
             CROSS JOIN (VALUES
                (1, %(close_lost)s, %(new_opp)s, %(lost)s, 1, 31, 'new'),
                (2, %(reopen)s, %(lost)s, %(new_opp)s, 12, 37, 'new'),
                (3, %(close_won)s, %(new_opp)s, %(won)s, 23, 41, 'reopened'),
                (4, %(reopen)s, %(won)s, %(new_opp)s, 34, 43, 'reopened')
             ) AS t(k, transition, from_step, to_step, day, prime, origin)
             WHERE log.transition_id = %(start)s
             ORDER BY log.process_id, t.k;
            UPDATE crm_lead lead SET create_date = log.date
              FROM crm_sales_process_log log
             WHERE log.lead_id = lead.id AND log.transition_id = %(start)s;
            """,
            {
                "start": transitions["start_from_opportunity"],
                "close_lost": transitions["close_as_lost"],
                "close_won": transitions["close_as_won"],
                "reopen": transitions["reopen"],
                "new_opp": steps["new_opportunity"],
                "lost": steps["lost_opportunity"],
                "won": steps["won_opportunity"],
            },
        )
        cr.execute("SELECT array_agg(id) FROM crm_sales_process")
        self.env["crm.sales.process.log"]._recompute_step_dates(cr.fetchone()[0])
        cr.execute("ANALYZE crm_sales_process_log; ANALYZE crm_lead; ANALYZE crm_sales_process")
        cr.commit()
        cr.execute("SELECT count(*) FROM crm_sales_process_log")
        print(f"  {cr.fetchone()[0]} log lines", file=sys.stderr, flush=True)

    def fold(self):
        """What the daily cron does (crm.sales.process.log.summary._fold):
        the log lines of the past days folded into the summary the analysis
        pivots read. Timed, with the rows it makes: the f. rows read them."""
        cr = self.env.cr
        started = time.perf_counter()
        lines = self.env["crm.sales.process.log.summary"]._fold()
        cr.commit()
        seconds = time.perf_counter() - started
        cr.execute("ANALYZE crm_sales_process_log_summary; ANALYZE crm_sales_process_log")
        cr.execute("SELECT count(*), COALESCE(sum(line_count), 0) FROM crm_sales_process_log_summary")
        rows, folded = cr.fetchone()
        cr.commit()
        print(
            f"  fold: {lines} log lines folded in {seconds:.1f} s; the summary has {rows} rows for {folded} lines",
            file=sys.stderr,
            flush=True,
        )

    def pivot(self, model, domain, rows, cols, measures):
        """A pivot view's load as the web client asks for it: one call with
        the grouping sets of its rows and columns."""
        Model = self.menv[model]
        sets = [[], rows, cols, rows + cols]
        return lambda: Model.formatted_read_grouping_sets(domain, sets, measures)

    def goal_pivots(self):
        """The pivots the speed goal compares, as loaders: Odoo's Pipeline
        Analysis (crm.crm_opportunity_report_action: opportunities, stage by
        month, expected revenue prorated), the analysis by step and month
        with its rates, Time in Step by step and month with its percentiles."""
        pipeline = self.pivot(
            "crm.lead",
            [("type", "=", "opportunity")],
            ["stage_id"],
            ["create_date:month"],
            ["prorated_revenue:sum", "__count"],
        )
        facts = self.pivot(
            "crm.sales.process.report",
            [],
            ["from_step_id"],
            ["date:month"],
            [
                "qualification_rate:avg",
                "win_rate:avg",
                "first_pass_win_rate:avg",
                "reopened_win_rate:avg",
                "is_won:sum",
                "days_in_step:avg",
                "__count",
            ],
        )
        percentiles = self.pivot(
            "crm.sales.process.step.time.report",
            [],
            ["step_id"],
            ["date_left:month"],
            ["days:avg", "days_median:avg", "days_p90:avg", "__count"],
        )
        return pipeline, facts, percentiles

    def analysis(self):
        """The analysis at scale against Odoo's Pipeline Analysis pivot."""
        pipeline, facts, percentiles = self.goal_pivots()
        Report = self.menv["crm.sales.process.report"]
        Process = self.menv["crm.sales.process"]
        rows = {
            "analysis pivot, step x month": (facts, pipeline, (2.0, 2.0)),
            "time in step pivot (median, p90), step x month": (percentiles, pipeline, (2.0, 2.0)),
            "funnel of every process": (lambda: Report.get_funnel_data([]), pipeline, (None, None)),
            "Stuck filter, first page": (
                lambda: Process.search([("is_stuck", "=", True)], limit=80),
                pipeline,
                (None, None),
            ),
            "step visits pivot, step x month": (
                self.pivot(
                    "crm.sales.process.visit.report", [], ["step_id"], ["date_entered:month"], ["days:avg", "__count"]
                ),
                pipeline,
                (None, None),
            ),
            "deal journeys pivot, owner x outcome": (
                self.pivot(
                    "crm.sales.process.journey.report",
                    [],
                    ["user_id"],
                    ["outcome"],
                    ["lead_to_won_rate:avg", "cycle_days:avg", "__count"],
                ),
                pipeline,
                (None, None),
            ),
        }
        return {name: (*self.compare(ours, native), goal) for name, (ours, native, goal) in rows.items()}

    def as_many_leads_as_lines(self):
        """Odoo's pivot on as many opportunities as the analysis has log
        lines: each opportunity copied four times by SQL (another reading of
        "the same number of leads": the same number of rows)."""
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM crm_sales_process_log")
        lines = cr.fetchone()[0]
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'crm_lead' AND column_name != 'id'"
        )
        columns = ", ".join(f'"{name}"' for (name,) in cr.fetchall())
        print(f"  copying the opportunities by SQL up to {lines} leads...", file=sys.stderr, flush=True)
        cr.execute(
            f"INSERT INTO crm_lead ({columns}) SELECT {columns} FROM crm_lead, generate_series(1, 4)"
            " WHERE crm_lead.sales_process_id IS NOT NULL"
        )
        cr.execute("ANALYZE crm_lead")
        self.env.invalidate_all()
        cr.execute("SELECT count(*) FROM crm_lead WHERE type = 'opportunity'")
        leads = cr.fetchone()[0]
        pipeline, facts, percentiles = self.goal_pivots()
        return leads, {
            "analysis pivot vs pipeline pivot on as many leads": (*self.compare(facts, pipeline), (None, None)),
            "time in step pivot vs the same": (*self.compare(percentiles, pipeline), (None, None)),
        }

    def compare(self, ours_fn, native_fn, rounds=5):
        """Median of ``rounds`` alternating runs of each side, warm."""
        ours_fn(), native_fn()
        results = ([], [])
        for __ in range(rounds):
            for side, fn in enumerate((ours_fn, native_fn)):
                self.env.invalidate_all()
                with measure(self.env) as counter:
                    fn()
                results[side].append(counter)
        return median(results[0]), median(results[1])

    def list_page(self, model, view_xmlid, domain):
        """The first page of a list view as the web client loads it."""
        Model = self.menv[model]
        view = self.env.ref(view_xmlid)
        arch = etree.fromstring(Model.get_views([(view.id, "list")])["views"]["list"]["arch"])
        spec = {}
        for node in arch.iterfind("field"):
            field = Model._fields.get(node.get("name"))
            if field:
                relational = field.type in ("many2one", "one2many", "many2many")
                spec[field.name] = {"fields": {"display_name": {}}} if relational else {}
        return lambda: Model.web_search_read(domain, spec, limit=80, count_limit=10001)

    def scale(self):
        Process = self.menv["crm.sales.process"]
        Lead = self.menv["crm.lead"]
        pipeline = [("type", "=", "opportunity")]
        results = {}
        for name, ours_fn, native_fn in (
            (
                "read_group by step / by stage",
                lambda: Process.formatted_read_group([], ["step_id"], ["__count"]),
                lambda: Lead.formatted_read_group(pipeline, ["stage_id"], ["__count"]),
            ),
            (
                "first list page (80)",
                self.list_page("crm.sales.process", "crm_sales_process.crm_sales_process_view_list", []),
                self.list_page("crm.lead", "crm.crm_case_tree_view_oppor", pipeline),
            ),
        ):
            ours_fn(), native_fn()  # warm
            runs = []
            for fn in (ours_fn, native_fn):
                counters = []
                for __ in range(5):
                    self.env.invalidate_all()
                    with measure(self.env) as counter:
                        fn()
                    counters.append(counter)
                runs.append(median(counters))
            results[name] = runs
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--processes", type=int, default=100000, help="processes for the scale rows (e)")
    parser.add_argument("--sizes", default="50,500", help="batch sizes of the qualify row (a)")
    parser.add_argument("--batch", type=int, default=500, help="batch size of rows b, c and i")
    parser.add_argument("--imports", type=int, default=2000, help="leads imported in row h")
    parser.add_argument("--only", help="only these rows (letters, e.g. hi), the scale rows excepted")
    parser.add_argument("--scale-only", action="store_true", help="only the scale rows (e, f, g)")
    parser.add_argument(
        "--analysis-only", action="store_true", help="only the f. rows (with --scale-only, e.g. on a kept database)"
    )
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn", "--http-interface", "127.0.0.1"]
    )
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        bench = Bench(env)
        cr.commit()
        # warm-up: every scenario once on a few records (the f. rows warm
        # themselves up: compare())
        rows = set(args.only or "abcdhi")
        warm_ups = {
            "a": bench.qualify,
            "b": bench.close_won,
            "bb": bench.close_lost,
            "c": bench.reopen,
            "cc": bench.reactivate,
            "h": lambda size: bench.import_leads(size, rounds=1),
            "i": lambda size: bench.develop_with_plan(size, rounds=1),
        }
        for letter, method in warm_ups.items():
            if not args.analysis_only and letter[0] in rows:
                method(5)
        cr.rollback()
        env.invalidate_all()
        bench = Bench(env)
        if args.scale_only:
            rows = set()
        batch = args.batch
        for size in [int(s) for s in args.sizes.split(",")] if "a" in rows else []:
            row("a. qualify vs mass convert wizard", size, *bench.qualify(size), goal=(1.0, 1.2))
        if "b" in rows:
            row("b. close_as_won vs action_set_won", batch, *bench.close_won(batch), goal=(1.0, 1.2))
            row("b. close_as_lost vs action_set_lost", batch, *bench.close_lost(batch), goal=(1.0, 1.2))
            row(
                "b. close_as_lost vs set_lost + revenue 0",
                batch,
                *bench.close_lost(batch, same_effect=True),
                goal=(1.0, 1.2),
            )
        if "c" in rows:
            row("c. reopen vs copy()", batch, *bench.reopen(batch), goal=(1.0, 1.2))
            row("c. reactivate vs copy()", batch, *bench.reactivate(batch), goal=(1.0, 1.2))
        if "d" in rows:
            row("d. lead form get_views, warm (x20)", 1, *bench.form(warm=True), goal=(1.1, 1.1))
            row("d. lead form get_views, cold (x20)", 1, *bench.form(warm=False), goal=(None, None))
        if "h" in rows:
            row(
                "h. import: auto-start channel vs none",
                args.imports,
                *bench.import_leads(args.imports),
                goal=(1.3, 1.3),
            )
        if "i" in rows:
            with_plan, without, share, wizard = bench.develop_with_plan(batch)
            row("i. develop: 3-activity plan vs none", batch, with_plan, without, goal=(None, None))
            row("i. the plan's share vs Odoo's plan wizard", batch, share, wizard, goal=(1.0, 1.0))
        cr.rollback()
        env.invalidate_all()
        if args.processes:
            bench = Bench(env)
            cr.commit()
            bench.populate(args.processes)
            if not args.analysis_only:
                for name, (o, n) in bench.scale().items():
                    row(f"e. {name}", args.processes, o, n, goal=(2.0, 2.0))
            bench.history()
            bench.fold()
            for name, (o, n, goal) in bench.analysis().items():
                row(f"f. {name}", args.processes, o, n, goal=goal)
            if not args.analysis_only:
                leads, rows = bench.as_many_leads_as_lines()
                for name, (o, n, goal) in rows.items():
                    row(f"g. {name}", leads, o, n, goal=goal)
        cr.rollback()
    print_table()
    return 0


def print_table():
    header = ("scenario", "records", "queries ours", "native", "ratio", "time ours", "native", "ratio", "goal")
    lines = [header]
    for name, size, o, n, (qgoal, tgoal) in ROWS:
        qr, tr = ratio(o.queries, n.queries), ratio(o.seconds, n.seconds)
        ok = (qgoal is None or qr <= qgoal) and (tgoal is None or tr <= tgoal)
        goal = "-" if qgoal is None else f"q<={qgoal} t<={tgoal} {'met' if ok else 'MISSED'}"
        lines.append(
            (
                name,
                str(size),
                str(o.queries),
                str(n.queries),
                f"{qr:.2f}",
                f"{o.seconds * 1000:.0f} ms",
                f"{n.seconds * 1000:.0f} ms",
                f"{tr:.2f}",
                goal,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print(" | ".join(cell.ljust(widths[j]) for j, cell in enumerate(line)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
