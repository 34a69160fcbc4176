#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Side-by-side benchmark of the Sales Process transitions and Odoo's own
operations on identical records, in one run, on a scratch database that has
crm_sales_process installed (bin/benchmark makes one and drops it).

Each row runs both sides as a sales manager (access rules included), each on
its own fresh records, and counts the SQL queries and the wall time from the
call to the end of its flush (tracking messages included, and the lead
scoring counts a transition defers to after its commit). A warm-up run of
every scenario comes first, so that caches are equally warm on both sides.

The a. rows run every transition against Odoo's nearest own operation doing
the same user-visible work, on one record (the median of --runs runs of each
side, interleaved: which side goes first alternates) and on a batch (the
median of --batch-runs). Each run starts as a request does, with an empty
record cache and warm registry caches. --profile CODE prints where the time
of both sides goes instead (cProfile, by cumulative time).

    bin/python scripts/benchmark.py --db DB --addons-path PATH [--processes 100000]
    bin/benchmark --processes 0                        # rows a., d., h. and i. (no scale rows); --only ad: a. and d.
    bin/benchmark --profile close_as_lost --profile-size 1

The scale rows run at each size of --processes (20,000 then 100,000 by
default, in one run: a fixed cost hides at one size and shows at the
other). The processes are made by the engine, owned by 20 salespeople,
with four more log lines each added by SQL (five lines a process), and the
history is folded as the daily cron would. The f. rows compare each view
of the Sales Process Analysis (the pivots, the funnel, Step Visits, Deal
Journeys, the Stuck filter) with Odoo's own Pipeline Analysis pivot on the
same opportunities, as the manager; the f. salesman rows compare one
salesperson's own rows of each with the same pivot (their goal), and for
information with his own Pipeline Analysis. The g. rows
compare the two pivots once the opportunities are copied (by SQL) up to as
many as the log has lines.
The a. rows run every transition against Odoo's nearest own operation on
one record and on 500 (see docs/operations.md, "Speed of a transition").
The h. row imports 2,000 leads (base_import, a CSV file) into a channel
that starts a process for every new lead and into one that does not; the
i. rows develop 500 opportunities with a 3-activity plan on Developed
Opportunity and without, and compare what the plan adds with Odoo's own
plan wizard on the same opportunities. --only hi runs those rows alone.
"""

import argparse
import contextlib
import cProfile
import datetime
import io
import pstats
import re
import statistics
import sys
import time
from unittest import mock

from lxml import etree

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import plaintext2html

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
    """The median wall time and the median query count of several runs."""
    result = Counter()
    result.seconds = statistics.median(c.seconds for c in counters)
    result.queries = statistics.median(c.queries for c in counters)
    return result


def row(name, size, ours, native, goal):
    ROWS.append((name, size, ours, native, goal))
    # progress: the table comes at the end, after minutes
    print(
        f"  measured {name} ({size}): {ours.queries:g} vs {native.queries:g} queries, "
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
        # the owners of the processes of the scale rows: a team of 20
        self.salesmen = env["res.users"].search([("login", "=like", "bench_salesman_%")], order="login")
        if not self.salesmen:
            self.salesmen = env["res.users"].create(
                [
                    {
                        "name": f"Bench Salesman {i:02d}",
                        "login": f"bench_salesman_{i:02d}",
                        "email": f"bench{i:02d}@example.com",
                        "group_ids": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])],
                    }
                    for i in range(1, 21)
                ]
            )
            self.team.member_ids |= self.salesmen
        self.reason = env.ref("crm_sales_process.lost_reason_outsold")
        self.disqualified = env.ref("crm_sales_process.lost_reason_disqualified")
        self.customer = env["res.partner"].create({"name": "Bench Customer", "is_company": True})
        self.menv = env(user=self.manager)
        self.seq = 0

    def leads(self, count, type="lead", owners=None):
        """``count`` fresh leads alike: a contact, an email, a company name
        (25 companies, several leads each, as in B2B); owned by the manager,
        or by each of ``owners`` in turn."""
        self.seq += 1
        owners = owners or self.manager
        vals = [
            {
                "name": f"Bench {self.seq} lead {i}",
                "type": type,
                "team_id": self.team.id,
                "user_id": owners[i % len(owners)].id,
                "contact_name": f"Contact {self.seq}-{i}",
                "email_from": f"contact{self.seq}x{i}@bench{i % 25}.example.com",
                "partner_name": f"Bench Company {self.seq}-{i % 25}",
                "expected_revenue": 1000 + i,
            }
            for i in range(count)
        ]
        Lead = self.menv["crm.lead"].with_context(mail_create_nolog=True)
        if owners != self.manager:
            # no "you have been assigned" message to each owner (it would be
            # most of the time of populate(); not what is measured)
            Lead = Lead.with_context(mail_auto_subscribe_no_notify=True)
        # in the manager's plain environment: a copy would keep the context
        return Lead.create(vals).with_env(self.menv)

    def processes(self, leads):
        Process = self.menv["crm.sales.process"]
        start = Process.start_from_lead if leads[:1].type == "lead" else Process.start_from_opportunity
        return Process.browse(start(leads.ids))

    # -- a. every transition vs Odoo's nearest own operation ----------------------
    #
    # Each scenario: prepare(count) makes ``count`` processes in the step the
    # transition leaves from and ``count`` records of Odoo's alike, in the
    # same state (made the same way, or by Odoo's own buttons); ours(processes)
    # and native(records) then do the same user-visible work: the same
    # records changed or created, the same values, the same chatter.

    def scenarios(self):
        """{code: (what Odoo's side does, prepare, ours, native)}"""
        # importable once the registry has loaded the addon
        from odoo.addons.crm_sales_process.models.crm_sales_process_effects import REOPEN_VALUES

        note = "Called back: budget next year."
        develop = {
            "partner_id": self.customer.id,
            "budget_amount": 5000,
            "probability": 50,
            "customer_need": "Faster quotes",
            "proposed_solution": "Our B2B plan",
        }
        # the pipeline stages of the steps (those a transition moves the
        # opportunity to, Odoo's side moves its records to as well)
        steps = {step.code: step for step in self.env.ref("crm_sales_process.workflow_b2b").step_ids}
        developed = (
            {"stage_id": steps["developed_opportunity"].stage_id.id} if steps["developed_opportunity"].stage_id else {}
        )
        stage = steps["new_opportunity"].stage_id or self.env["crm.lead"]._stage_find(
            team_id=self.team.id, domain=[("fold", "=", False)]
        )
        return {
            "qualify": (
                "convert (wizard)",
                lambda n: (self.processes(self.leads(n)), self.leads(n)),
                lambda ours: ours.run_transition("qualify"),
                self.convert,
            ),
            "disqualify": (
                "action_set_lost",
                lambda n: (self.processes(self.leads(n)), self.leads(n)),
                lambda ours: ours.run_transition("disqualify"),
                lambda native: native.action_set_lost(lost_reason_id=self.disqualified.id),
            ),
            "follow_up": (
                "message_post",
                self.disqualified_pairs,
                lambda ours: ours.run_transition("follow_up", {"note": note}),
                lambda native: [
                    lead.message_post(body=plaintext2html(note), message_type="comment", subtype_xmlid="mail.mt_note")
                    for lead in native
                ],
            ),
            "reactivate": (
                "copy",
                self.disqualified_pairs,
                lambda ours: ours.run_transition("reactivate"),
                lambda native: native.copy({"active": True, "lost_reason_id": False}),
            ),
            "develop": (
                "write",
                self.open_pairs,
                lambda ours: ours.run_transition("develop", dict(develop)),
                # a copy: Odoo's write adds to the values it is given
                lambda native: native.write(dict(develop, **developed)),
            ),
            "close_as_won": (
                "action_set_won",
                self.open_pairs,
                lambda ours: ours.run_transition("close_as_won", {"close_revenue": 5000}),
                lambda native: (native.write({"expected_revenue": 5000}), native.action_set_won()),
            ),
            "close_as_lost": (
                "action_set_lost",
                self.open_pairs,
                lambda ours: ours.run_transition("close_as_lost", {"lost_reason_id": self.reason.id}),
                # the spec's lost also sets the revenue to 0, a change the chatter tracks
                lambda native: native.action_set_lost(lost_reason_id=self.reason.id, expected_revenue=0),
            ),
            "reopen": (
                "copy",
                self.won_pairs,
                lambda ours: ours.run_transition("reopen"),
                lambda native: native.copy(dict(REOPEN_VALUES, stage_id=stage.id)),
            ),
        }

    def convert(self, native):
        """Odoo's "Convert to Opportunity": its form on one lead, its mass
        form on several, each with its defaults."""
        if len(native) == 1:
            wizard = self.menv["crm.lead2opportunity.partner"].with_context(
                active_model="crm.lead", active_id=native.id, active_ids=native.ids
            )
            wizard.create({}).action_apply()
        else:
            self.menv["crm.lead2opportunity.partner.mass"].with_context(
                active_model="crm.lead", active_ids=native.ids
            ).create({}).action_mass_convert()
        assert set(native.mapped("type")) == {"opportunity"}

    def open_pairs(self, count):
        """Opportunities in a process, and alike in the same pipeline stage."""
        ours = self.processes(self.leads(count, "opportunity"))
        native = self.leads(count, "opportunity")
        native.write({"stage_id": ours.opportunity_id[:1].stage_id.id})
        return ours, native

    def disqualified_pairs(self, count):
        ours = self.processes(self.leads(count))
        ours.run_transition("disqualify")
        native = self.leads(count)
        native.action_set_lost(lost_reason_id=self.disqualified.id)
        return ours, native.with_context(active_test=False)

    def won_pairs(self, count):
        ours, native = self.open_pairs(count)
        ours.run_transition("close_as_won", {"close_revenue": 5000})
        native.write({"expected_revenue": 5000})
        native.action_set_won()
        return ours, native

    def settle(self):
        """What the preparation left to do is done before a measure starts:
        its flush, its chatter, the lead scoring counts it deferred."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        run_deferred(self.env)
        self.env.flush_all()

    def transition(self, code, size, runs):
        """Median of ``runs`` interleaved runs of each side on ``size``
        records (which side goes first alternates). Each run starts as a
        request does: an empty record cache, warm registry caches."""
        __, prepare, ours_fn, native_fn = self.scenarios()[code]
        results = ([], [])
        pairs = []
        if size == 1:
            # one set of ``runs`` records each, one record per run
            ours, native = prepare(runs)
            pairs = list(zip(ours, native, strict=True))
        for run in range(runs):
            ours, native = pairs[run] if pairs else prepare(size)
            sides = [(0, ours_fn, ours), (1, native_fn, native)]
            for side, fn, records in sides if run % 2 == 0 else reversed(sides):
                self.settle()
                self.env.invalidate_all()
                with measure(self.env) as counter:
                    fn(records)
                results[side].append(counter)
        return median(results[0]), median(results[1])

    def profile(self, code, size, top):
        """cProfile of both sides of a scenario on ``size`` records, warm."""
        __, prepare, ours_fn, native_fn = self.scenarios()[code]
        for side, fn in (("ours", ours_fn), ("Odoo's", native_fn)):
            records = prepare(size)[0 if side == "ours" else 1]
            self.settle()
            self.env.invalidate_all()
            profiler = cProfile.Profile()
            profiler.enable()
            with measure(self.env) as counter:
                fn(records)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
            text = re.sub(r"\S*/site-packages/|\S*/crm_sales_process/", "", out.getvalue())
            print(f"== {code} on {size}, {side}: {counter.queries} queries, {counter.seconds * 1000:.0f} ms")
            print("\n".join(line.rstrip()[:160] for line in text.splitlines() if line.strip())[:20000])

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
        through the engine (tracking off: history is not what is measured),
        owned by the 20 salespeople in turn."""
        existing = self.env["crm.sales.process"].search_count([])
        while existing < count:
            size = min(2000, count - existing)
            opportunities = self.leads(size, "opportunity", owners=self.salesmen).sudo()
            Process = self.env["crm.sales.process"].with_context(tracking_disable=True)
            for owner, owned in opportunities.grouped("user_id").items():
                # the start makes its caller the owner unless told otherwise
                Process.start_from_opportunity(owned.ids, {"user_id": owner.id})
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
        # the processes that have their start only (all of them, or those
        # populate() added since the last size; none on a kept database)
        cr.execute(
            """
            CREATE TEMPORARY TABLE bench_new_process ON COMMIT DROP AS
            SELECT process_id AS id FROM crm_sales_process_log
             GROUP BY process_id HAVING count(*) = 1
            """
        )
        if not cr.rowcount:
            return
        print(f"  adding 4 log lines to each of {cr.rowcount} processes by SQL...", file=sys.stderr, flush=True)
        cr.execute(
            """
            UPDATE crm_sales_process_log
               SET date = (now() AT TIME ZONE 'UTC') - interval '365 days'
                          + (process_id * 7919 %% 1000) * interval '5 hours'
             WHERE transition_id = %(start)s AND process_id IN (SELECT id FROM bench_new_process);
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
             WHERE log.transition_id = %(start)s AND log.process_id IN (SELECT id FROM bench_new_process)
             ORDER BY log.process_id, t.k;
            UPDATE crm_lead lead SET create_date = log.date
              FROM crm_sales_process_log log
             WHERE log.lead_id = lead.id AND log.transition_id = %(start)s
               AND log.process_id IN (SELECT id FROM bench_new_process);
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
        cr.execute("SELECT array_agg(id) FROM bench_new_process")
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

    def pivot(self, model, domain, rows, cols, measures, env=None):
        """A pivot view's load as the web client asks for it: one call with
        the grouping sets of its rows and columns (as the manager, or as the
        user of ``env``)."""
        Model = (env or self.menv)[model]
        sets = [list(grouping) for grouping in dict.fromkeys(map(tuple, [[], rows, cols, rows + cols]))]
        return lambda: Model.formatted_read_grouping_sets(domain, sets, measures)

    def goal_pivots(self, env=None):
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
            env,
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
            env,
        )
        percentiles = self.pivot(
            "crm.sales.process.step.time.report",
            [],
            ["step_id"],
            ["date_left:month"],
            ["days:avg", "days_median:avg", "days_p90:avg", "__count"],
            env,
        )
        return pipeline, facts, percentiles

    def views(self, env):
        """Every view of the analysis as it loads, as the user of ``env``,
        with the Pipeline Analysis pivot of the same user."""
        pipeline, facts, percentiles = self.goal_pivots(env)
        Report = env["crm.sales.process.report"]
        # the funnel and Time in Step open on the action's default filter, the last twelve months
        today = datetime.date.today()
        trailing = [
            ("date", ">=", str(today.replace(year=today.year - 1))),
            ("date", "<", str(today + datetime.timedelta(days=1))),
        ]
        return pipeline, {
            "analysis pivot, step x month": facts,
            "time in step pivot (median, p90), step x month": percentiles,
            "time in step pivot, step, last 12 months (as it opens)": self.pivot(
                "crm.sales.process.step.time.report",
                [("date_left", *term[1:]) for term in trailing],
                ["step_id"],
                [],
                ["stay_count:sum", "days:avg", "days_median:avg", "days_p90:avg"],
                env,
            ),
            "funnel, last 12 months (as it opens)": lambda: Report.get_funnel_data(trailing),
            "funnel of every process": lambda: Report.get_funnel_data([]),
            "step visits pivot, step x month entered": self.pivot(
                "crm.sales.process.visit.report",
                [],
                ["step_id"],
                ["date_entered:month"],
                ["days:avg", "reentry_count:sum", "__count"],
                env,
            ),
            "step visits pivot, step x still there/left (as it opens)": self.pivot(
                "crm.sales.process.visit.report",
                [],
                ["step_id"],
                ["state"],
                ["days:avg", "reentry_count:sum", "__count"],
                env,
            ),
            "deal journeys pivot, owner x outcome": self.pivot(
                "crm.sales.process.journey.report",
                [],
                ["user_id"],
                ["outcome"],
                ["lead_to_won_rate:avg", "cycle_days:avg", "__count"],
                env,
            ),
        }

    def analysis(self):
        """Every view at scale against Odoo's Pipeline Analysis pivot of the
        same size: as the manager, then as one of the 20 salespeople (his
        own rows; the goal against the same pivot, and for information
        against his own Pipeline Analysis, a twentieth of it)."""
        rows = {}
        pipeline, views = self.views(self.menv)
        for name, ours in views.items():
            rows[name] = (*self.compare(ours, pipeline), (2.0, 2.0))
        Process = self.menv["crm.sales.process"]
        rows["Stuck filter, first page"] = (
            *self.compare(lambda: Process.search([("is_stuck", "=", True)], limit=80), pipeline),
            (1.2, 1.2),
        )
        salesman = self.env(user=self.salesmen[0])
        own_pipeline, views = self.views(salesman)
        for name, ours in views.items():
            rows[f"salesman's own {name}"] = (*self.compare(ours, pipeline), (2.0, 2.0))
        for name, ours in views.items():
            rows[f"(info) salesman's own {name} vs his own pipeline"] = (
                *self.compare(ours, own_pipeline),
                (None, None),
            )
        return rows

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


# Every transition against Odoo's nearest own operation, at these sizes
# (DESIGN.md: one record is the common case, batches of hundreds the other).
TRANSITIONS = (
    "qualify",
    "disqualify",
    "follow_up",
    "reactivate",
    "develop",
    "close_as_won",
    "close_as_lost",
    "reopen",
)
# (queries, time) of ours at most, as a ratio of Odoo's own
TRANSITION_GOAL = (0.9, 0.8)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument(
        "--processes",
        default="20000,100000",
        help="processes for the scale rows (e, f, g), one size or several in one run (comma-separated)",
    )
    parser.add_argument("--sizes", default="1,500", help="batch sizes of the transition rows (a)")
    parser.add_argument("--runs", type=int, default=60, help="interleaved runs of each side on one record")
    parser.add_argument("--batch-runs", type=int, default=3, help="interleaved runs of each side on a batch")
    parser.add_argument("--transitions", default=",".join(TRANSITIONS), help="the transitions of rows a")
    parser.add_argument("--batch", type=int, default=500, help="batch size of row i")
    parser.add_argument("--imports", type=int, default=2000, help="leads imported in row h")
    parser.add_argument("--only", help="only these rows (letters, e.g. hi), the scale rows excepted")
    parser.add_argument("--scale-only", action="store_true", help="only the scale rows (e, f, g)")
    parser.add_argument(
        "--analysis-only", action="store_true", help="only the f. rows (with --scale-only, e.g. on a kept database)"
    )
    parser.add_argument("--profile", metavar="CODE", help="print the cProfile of both sides of a transition, then stop")
    parser.add_argument("--profile-size", type=int, default=500)
    parser.add_argument("--profile-top", type=int, default=40, help="functions listed, by cumulative time")
    args = parser.parse_args()
    args.codes = [code for code in args.transitions.split(",") if code]
    unknown = set(args.codes + ([args.profile] if args.profile else [])) - set(TRANSITIONS)
    if unknown:
        parser.error(f"unknown transitions {sorted(unknown)}: choose among {', '.join(TRANSITIONS)}")
    args.rows = set() if args.scale_only else set(args.only or "adhi")
    return args


def warm_up(bench, args):
    """Every scenario a few times on a few records (the f. rows warm
    themselves up: compare())."""
    if args.analysis_only:
        return
    if args.profile or "a" in args.rows:
        for code in [args.profile] if args.profile else args.codes:
            bench.transition(code, 1, 4)
    if args.profile:
        return
    if "h" in args.rows:
        bench.import_leads(5, rounds=1)
    if "i" in args.rows:
        bench.develop_with_plan(5, rounds=1)


def operation_rows(bench, args):
    """Rows a. (transitions), d. (the form), h. (import), i. (plans)."""
    if "a" in args.rows:
        scenarios = bench.scenarios()
        for code in args.codes:
            for size in [int(s) for s in args.sizes.split(",")]:
                runs = args.runs if size == 1 else args.batch_runs
                row(
                    f"a. {code} vs {scenarios[code][0]}",
                    size,
                    *bench.transition(code, size, runs),
                    goal=TRANSITION_GOAL,
                )
    if "d" in args.rows:
        row("d. lead form get_views, warm (x20)", 1, *bench.form(warm=True), goal=(1.1, 1.1))
        row("d. lead form get_views, cold (x20)", 1, *bench.form(warm=False), goal=(None, None))
    if "h" in args.rows:
        row("h. import: auto-start channel vs none", args.imports, *bench.import_leads(args.imports), goal=(1.3, 1.3))
    if "i" in args.rows:
        with_plan, without, share, wizard = bench.develop_with_plan(args.batch)
        row("i. develop: 3-activity plan vs none", args.batch, with_plan, without, goal=(None, None))
        row("i. the plan's share vs Odoo's plan wizard", args.batch, share, wizard, goal=(1.0, 1.0))


def scale_rows(bench, size, args):
    """Rows e. and f. on ``size`` processes."""
    bench.populate(size)
    if not args.analysis_only:
        for name, (o, n) in bench.scale().items():
            row(f"e. {name}", size, o, n, goal=(2.0, 2.0))
    bench.history()
    bench.fold()
    for name, (o, n, goal) in bench.analysis().items():
        row(f"f. {name}", size, o, n, goal=goal)


def lines_rows(bench):
    """Rows g.: as many leads as Odoo's analysis has lines."""
    leads, rows = bench.as_many_leads_as_lines()
    for name, (o, n, goal) in rows.items():
        row(f"g. {name}", leads, o, n, goal=goal)


def main():
    args = parse_args()
    odoo.tools.config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn", "--http-interface", "127.0.0.1"]
    )
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        bench = Bench(env)
        cr.commit()
        warm_up(bench, args)
        if args.profile:
            bench.profile(args.profile, args.profile_size, args.profile_top)
            cr.rollback()
            return 0
        cr.rollback()
        env.invalidate_all()
        operation_rows(Bench(env), args)
        cr.rollback()
        env.invalidate_all()
        sizes = sorted(int(size) for size in str(args.processes).split(",") if int(size))
        for size in sizes:
            bench = Bench(env)
            cr.commit()
            scale_rows(bench, size, args)
        if sizes and not args.analysis_only:
            lines_rows(bench)
        cr.rollback()
    print_table()
    return 0


def print_table():
    header = ("scenario", "records", "queries ours", "native", "ratio", "time ours", "native", "ratio", "goal")
    lines = [header]
    for name, size, o, n, (qgoal, tgoal) in ROWS:
        qr, tr = ratio(o.queries, n.queries), ratio(o.seconds, n.seconds)
        ok = (qgoal is None or qr <= qgoal) and (tgoal is None or tr <= tgoal)
        goal = "-" if qgoal is None else f"q<={qgoal} t<={tgoal} {'met' if ok else 'NOT MET'}"
        lines.append(
            (
                name,
                str(size),
                f"{o.queries:g}",
                f"{n.queries:g}",
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
