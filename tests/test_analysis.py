# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Sales Process Analysis on a hand-built history with known dates.

The processes run through the engine on a copy of the default workflow (so
that the demo history, on the default one, stays out of every figure), then
their log lines are dated by SQL, in the order they ran:

A  lead -> disqualified -> reactivated -> qualified -> lost -> reopened -> won
   day 0      2              12             15          25       40         50
B  lead -> qualified (1+4) -> developed (+6) -> won (+20): days 1, 5, 11, 31
C  lead (salesman 2) -> disqualified: days 2, 3
D  opportunity (salesman 2) -> lost: days 3, 9
E  a lead of another company, only started
"""

from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SalesProcessCase

T0 = datetime(2025, 3, 3, 9, 0)


@tagged("post_install", "-at_install")
class TestAnalysis(SalesProcessCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clone = cls.workflow.copy({"name": "B2B for the analysis"})
        cls.team.sales_process_workflow_id = cls.clone
        cls.steps = {step.code: step for step in cls.clone.step_ids}
        cls.other_team = cls.env["crm.team"].create(
            {
                "name": "SP B2B Other Company",
                "channel_type": "b2b",
                "company_id": cls.other_company.id,
                "sales_process_workflow_id": cls.clone.id,
            }
        )
        cls.a = cls._history(
            cls.salesman,
            "lead",
            [
                ("disqualify", {}, 2),
                ("reactivate", {}, 12),
                ("qualify", {"company_name": "Initech SP"}, 15),
                ("close_as_lost", {"lost_reason_id": cls.outsold.id}, 25),
                ("reopen", {}, 40),
                ("close_as_won", {"close_revenue": 9000}, 50),
            ],
            name="SP Chain A",
        )
        cls.b = cls._history(
            cls.salesman,
            "lead",
            [
                ("qualify", {"company_name": "Initech SP"}, 5),
                ("develop", {"partner_id": cls.customer.id}, 11),
                ("close_as_won", {"close_revenue": 7000}, 31),
            ],
            start=1,
            name="SP Deal B",
        )
        cls.c = cls._history(cls.salesman_2, "lead", [("disqualify", {}, 3)], start=2, name="SP Lead C")
        cls.d = cls._history(
            cls.salesman_2,
            "opportunity",
            [
                ("close_as_lost", {"lost_reason_id": cls.cancelled.id}, 9),
            ],
            start=3,
            name="SP Deal D",
        )
        cls.e = cls._history(cls.other_user, "lead", [], start=1, name="SP Other Company E", team=cls.other_team)
        cls.mine = cls.a | cls.b | cls.c | cls.d

    @classmethod
    def _history(cls, user, record_type, transitions, start=0, name="SP History", team=None):
        """A process of ``user`` run through the engine, then dated: its start
        at T0 + ``start`` days, each transition at T0 + its day."""
        team = team or cls.team
        lead = (
            cls.env["crm.lead"]
            .with_user(user)
            .create(
                {
                    "name": name,
                    "type": record_type,
                    "team_id": team.id,
                    "user_id": user.id,
                    "partner_name": "Initech SP",
                    "contact_name": "Peter Gibbons",
                    "partner_id": cls.customer.id if record_type == "opportunity" else False,
                }
            )
        )
        Process = cls.env["crm.sales.process"].with_user(user)
        start_method = Process.start_from_lead if record_type == "lead" else Process.start_from_opportunity
        process = Process.browse(start_method(lead.id))
        for code, values, __ in transitions:
            process.run_transition(code, values)
        cls._date_log(process, [start] + [day for __, __, day in transitions])
        return process.sudo(False).with_env(cls.env)

    @classmethod
    def _date_log(cls, process, days, base=T0):
        cls.env.flush_all()
        lines = process.sudo().log_ids.sorted("id")
        assert len(lines) == len(days)
        for line, day in zip(lines, days, strict=True):
            cls.env.cr.execute(
                "UPDATE crm_sales_process_log SET date = %s WHERE id = %s", [base + timedelta(days=day), line.id]
            )
        cls.env["crm.sales.process.log"]._recompute_step_dates(process.ids)

    def _facts(self, aggregates, groupby=(), domain=None, user=None):
        Report = self.env["crm.sales.process.report"]
        if user:
            Report = Report.with_user(user)
        domain = domain if domain is not None else [("process_id", "in", self.mine.ids)]
        return Report._read_group(domain, list(groupby), aggregates)

    # -- the log as the engine writes it --------------------------------

    def test_log_keeps_owner_origin_and_step_entry(self):
        lines = self.a.log_ids.sorted("id")
        self.assertEqual(
            lines.mapped("record_origin"),
            ["new", "new", "new", "reactivated", "reactivated", "reactivated", "reopened"],
        )
        self.assertEqual(lines.owner_id, self.salesman)
        self.assertEqual(lines.team_id, self.team)
        self.assertFalse(lines[0].date_from_step, "a start leaves no step")
        self.assertEqual(
            [line.date_from_step for line in lines[1:]],
            [
                T0,
                T0 + timedelta(days=2),
                T0 + timedelta(days=12),
                T0 + timedelta(days=15),
                T0 + timedelta(days=25),
                T0 + timedelta(days=40),
            ],
        )
        self.assertEqual(self.a.date_step, T0 + timedelta(days=50))
        self.assertEqual(self.a.date_start, (T0).date())

    def test_engine_records_the_time_entered_without_back_dating(self):
        process = self._start(self._lead("SP Fresh"), user=self.salesman)
        entered = process.date_step
        process.run_transition("qualify", {"company_name": "Initech SP"})
        line = process.log_ids.sorted("id")[-1]
        self.assertEqual(line.date_from_step, entered)
        self.assertEqual(line.from_step_id, self.steps["new_lead"])
        self.assertEqual(line.owner_id, self.salesman)

    def test_upgrade_fills_the_lines_written_before_the_analysis(self):
        lines = (self.a | self.b | self.d).log_ids
        fnames = ["owner_id", "team_id", "record_origin", "date_from_step"]
        before = lines.read(fnames)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_sales_process_log SET owner_id = NULL, team_id = NULL, record_origin = NULL,"
            " date_from_step = NULL WHERE id = ANY(%s)",
            [lines.ids],
        )
        self.env.invalidate_all()
        self.assertFalse(any(lines.mapped("record_origin")))
        date_step = self.a.date_step
        self.env["crm.sales.process.log"]._fill_analysis_columns()
        self.assertEqual(lines.read(fnames), before)
        self.assertEqual(self.a.date_step, date_step, "the processes are left alone")

    def test_facts_kept_by_the_engine_are_those_the_upgrade_computes(self):
        """What the engine writes of each process as it runs is what
        _fill_facts (the upgrade to 19.0.1.3.0, a rewritten log) computes from
        the log alone: two writings of one definition, on every transition,
        the demo's processes included."""
        won = self._process_at("won_opportunity")
        lost = self._process_at("lost_opportunity")
        lost.run_transition("reopen")
        lost.run_transition("develop", {"partner_id": self.customer.id})
        dropped = self._process_at("disqualified_lead")
        dropped.run_transition("follow_up", {"note": "Called back: next year."})
        dropped.run_transition("reactivate")
        self._start(self._lead("SP Opportunity", type="opportunity"))
        # and every other: the demo's as installed (its running processes
        # started by the engine, its history rewritten) and this class's
        processes = self.Process.with_context(active_test=False).search([])
        self.assertGreater(len(processes), 90)
        facts = [
            "date_started",
            "first_lead_id",
            "first_step_id",
            "date_opportunity",
            "date_changed",
            "reactivation_count",
            "reopen_count",
            "steps_reached",
            "step_transition_id",
            "step_reentry",
        ]
        stays = ["from_step_transition_id", "from_step_reentry"]
        self.env.flush_all()
        kept, kept_stays = processes.read(facts), processes.log_ids.read(stays)
        self.assertEqual(won.first_lead_id, won.log_ids.sorted("id")[0].lead_id)
        self.assertEqual(dropped.first_lead_id, dropped.log_ids.sorted("id")[0].lead_id)
        self.assertNotEqual(dropped.first_lead_id, dropped.current_lead_id, "reactivated: a new lead")
        self.assertEqual((lost.reopen_count, dropped.reactivation_count), (1, 1))
        self.env.cr.execute(
            "UPDATE crm_sales_process SET date_started = NULL, first_lead_id = NULL, first_step_id = NULL,"
            " date_opportunity = NULL, date_changed = NULL, reactivation_count = NULL, reopen_count = NULL,"
            " steps_reached = NULL, step_transition_id = NULL, step_reentry = NULL WHERE id = ANY(%s)",
            [processes.ids],
        )
        self.env.cr.execute(
            "UPDATE crm_sales_process_log SET from_step_transition_id = NULL, from_step_reentry = NULL"
            " WHERE process_id = ANY(%s)",
            [processes.ids],
        )
        self.env.invalidate_all()
        self.assertFalse(any(processes.mapped("first_lead_id")))
        self.env["crm.sales.process.log"]._fill_facts(processes.ids)
        self.env.invalidate_all()
        self.assertEqual(processes.read(facts), kept)
        self.assertEqual(processes.log_ids.read(stays), kept_stays)

    # -- item 2: every figure ---------------------------------------------

    def test_rates(self):
        [(qualification, reactivated_qualification, win, first_pass, reopened, count)] = self._facts(
            [
                "qualification_rate:avg",
                "reactivated_qualification_rate:avg",
                "win_rate:avg",
                "first_pass_win_rate:avg",
                "reopened_win_rate:avg",
                "__count",
            ]
        )
        self.assertEqual(count, 7 + 4 + 2 + 2)
        self.assertEqual(qualification, 50.0, "A and B qualified, A and C disqualified")
        self.assertEqual(reactivated_qualification, 100.0, "the reactivated lead of A was qualified")
        self.assertEqual(win, 50.0, "A (reopened) and B won, A (first pass) and D lost")
        self.assertAlmostEqual(first_pass, 100 / 3, places=6, msg="B won; A's first pass and D lost")
        self.assertEqual(reopened, 100.0, "A's reopened deal won")

    def test_counts_and_days_to_a_second_chance(self):
        [(qualified, disqualified, won, lost, reopened, reactivated, forward, to_reopen, to_reactivate)] = self._facts(
            [
                "is_qualified:sum",
                "is_disqualified:sum",
                "is_won:sum",
                "is_lost:sum",
                "is_reopened:sum",
                "is_reactivated:sum",
                "is_forward:sum",
                "days_to_reopen:avg",
                "days_to_reactivate:avg",
            ]
        )
        self.assertEqual((qualified, disqualified, won, lost, reopened, reactivated), (2, 2, 2, 2, 1, 1))
        # A: qualify, close won; B: qualify, develop, close won
        self.assertEqual(forward, 5)
        self.assertEqual(to_reopen, 15.0, "A lost on day 25, reopened on day 40")
        self.assertEqual(to_reactivate, 10.0, "A disqualified on day 2, reactivated on day 12")

    def test_rates_in_every_pivot_cell(self):
        by_month = {
            month.month: (win, qualification)
            for month, win, qualification in self._facts(["win_rate:avg", "qualification_rate:avg"], ["date:month"])
        }
        # March: D lost (day 9), A lost (day 25); qualified A (15) and B (5),
        # disqualified A (2) and C (3). April: B won (31), A won (50)
        self.assertEqual(by_month, {3: (0.0, 50.0), 4: (100.0, False)}, "no qualification in April")
        by_owner = {
            owner: (win, qualification)
            for owner, win, qualification in self._facts(["win_rate:avg", "qualification_rate:avg"], ["owner_id"])
        }
        self.assertEqual(by_owner[self.salesman], (200 / 3, 200 / 3))
        self.assertEqual(by_owner[self.salesman_2], (0.0, 0.0))
        by_step = {
            step.code: (days, win)
            for step, days, win in self._facts(["days_in_step:avg", "win_rate:avg"], ["from_step_id"])
            if step
        }
        self.assertEqual(by_step["new_lead"], (2.5, False))
        days, win = by_step["new_opportunity"]
        self.assertEqual(days, 8.0, "stays of 10, 10, 6 and 6 days")
        self.assertAlmostEqual(win, 100 / 3, msg="closed from there: A won (reopened), A and D lost")
        self.assertEqual(by_step["developed_opportunity"], (20.0, 100.0))
        self.assertEqual(by_step["disqualified_lead"], (10.0, False))
        self.assertEqual(by_step["lost_opportunity"], (15.0, False))

    def test_time_in_step_median_and_90th_percentile(self):
        StepTime = self.env["crm.sales.process.step.time.report"]
        domain = [("process_id", "in", self.mine.ids)]
        rows = StepTime.formatted_read_group(
            domain, ["step_id"], ["__count", "days:avg", "days_median:avg", "days_p90:avg"]
        )
        figures = {
            self.env["crm.sales.process.step"].browse(row["step_id"][0]).code: (
                row["__count"],
                row["days:avg"],
                row["days_median:avg"],
                row["days_p90:avg"],
            )
            for row in rows
        }
        # new lead: 2 (A), 3 (A again), 4 (B), 1 (C): p90 = 3 + 0.7 * (4 - 3)
        self.assertEqual(figures["new_lead"][:3], (4, 2.5, 2.5))
        self.assertAlmostEqual(figures["new_lead"][3], 3.7)
        self.assertEqual(figures["new_opportunity"], (4, 8.0, 8.0, 10.0))
        self.assertEqual(figures["developed_opportunity"], (1, 20.0, 20.0, 20.0))
        self.assertEqual(figures["disqualified_lead"], (1, 10.0, 10.0, 10.0))
        self.assertEqual(figures["lost_opportunity"], (1, 15.0, 15.0, 15.0))
        # a coarser cell is not a mean of medians: the median of its stays
        [(median, p90)] = StepTime._read_group(domain, [], ["days_median:avg", "days_p90:avg"])
        stays = sorted([2, 3, 4, 1, 10, 10, 6, 6, 20, 10, 15])
        self.assertEqual(median, stays[5])
        self.assertAlmostEqual(p90, stays[9] + 0.0 * (stays[10] - stays[9]))
        # as the pivot asks for them: every grouping set in one query
        [total, by_step] = StepTime.formatted_read_grouping_sets(
            domain, [[], ["step_id"]], ["days_median:avg", "days_p90:avg", "stay_count:sum"]
        )
        self.assertEqual(total[0]["days_median:avg"], median)
        self.assertEqual(total[0]["stay_count:sum"], 11)
        new_lead = next(row for row in by_step if row["step_id"][0] == self.steps["new_lead"].id)
        self.assertAlmostEqual(new_lead["days_p90:avg"], 3.7)
        by_owner_month = StepTime._read_group(
            domain + [("step_id", "=", self.steps["new_opportunity"].id)],
            ["owner_id", "date_left:month"],
            ["days_median:avg"],
        )
        self.assertEqual(
            sorted((owner.name, month.month, median) for owner, month, median in by_owner_month),
            # Sam: B left on March 14 after 6 days, A on March 28 after 10, A on April 22 after 10
            [("Sam Salesman", 3, 8.0), ("Sam Salesman", 4, 10.0), ("Sue Salesman", 3, 6.0)],
        )

    def test_journeys(self):
        Journey = self.env["crm.sales.process.journey.report"]
        rows = {row.process_id: row for row in Journey.search([("process_id", "in", self.mine.ids)])}
        a, b, c, d = (rows[p] for p in (self.a, self.b, self.c, self.d))
        self.assertEqual(
            (a.outcome, a.start_type, a.reactivation_count, a.reopen_count, a.cycle_days),
            ("won", "lead", 1, 1, 50.0),
        )
        self.assertEqual(a.first_lead_id, self.a.log_ids.sorted("id")[0].lead_id)
        self.assertEqual(a.current_lead_id, self.a.current_lead_id)
        self.assertEqual(
            (a.date_start, a.date_opportunity, a.date_end), (T0, T0 + timedelta(days=15), T0 + timedelta(days=50))
        )
        self.assertEqual((a.lead_to_won_rate, a.lead_to_won_days, a.opportunity_to_won_days), (100.0, 50.0, 35.0))
        self.assertEqual(
            (b.outcome, b.cycle_days, b.lead_to_won_days, b.opportunity_to_won_days), ("won", 30.0, 30.0, 26.0)
        )
        self.assertEqual((c.outcome, c.cycle_days, c.lead_to_won_rate), ("disqualified", 1.0, 0.0))
        self.assertEqual((d.outcome, d.start_type, d.opportunity_to_lost_days), ("lost", "opportunity", 6.0))
        self.assertFalse(d.lead_to_won_rate, "a journey from an opportunity has no lead-to-won rate")
        [(rate, lead_to_won, opportunity_to_won, opportunity_to_lost)] = Journey._read_group(
            [("process_id", "in", self.mine.ids)],
            [],
            [
                "lead_to_won_rate:avg",
                "lead_to_won_days:avg",
                "opportunity_to_won_days:avg",
                "opportunity_to_lost_days:avg",
            ],
        )
        self.assertAlmostEqual(rate, 200 / 3, msg="A and B won, C disqualified; D came from an opportunity")
        self.assertEqual((lead_to_won, opportunity_to_won, opportunity_to_lost), (40.0, 30.5, 6.0))

    def test_step_visits(self):
        visits = self.env["crm.sales.process.visit.report"].search(
            [("process_id", "=", self.a.id)], order="date_entered"
        )
        self.assertEqual(
            [
                (v.step_id.code, v.entry_transition_id.code, v.exit_transition_id.code or False, v.state, v.is_reentry)
                for v in visits
            ],
            [
                ("new_lead", "start_from_lead", "disqualify", "left", False),
                ("disqualified_lead", "disqualify", "reactivate", "left", False),
                ("new_lead", "reactivate", "qualify", "left", True),
                ("new_opportunity", "qualify", "close_as_lost", "left", False),
                ("lost_opportunity", "close_as_lost", "reopen", "left", False),
                ("new_opportunity", "reopen", "close_as_won", "left", True),
                ("won_opportunity", "close_as_won", False, "current", False),
            ],
        )
        self.assertEqual(visits.mapped("days")[:6], [2.0, 10.0, 3.0, 10.0, 15.0, 10.0])
        self.assertEqual(visits[5].date_left, T0 + timedelta(days=50))
        self.assertFalse(visits[6].date_left)
        self.assertGreater(visits[6].days, (fields.Datetime.now() - (T0 + timedelta(days=51))).days)

    # -- item 3: the funnel and the stuck processes -------------------------

    def test_funnel(self):
        Report = self.env["crm.sales.process.report"]
        domain = [("process_id", "in", self.mine.ids)]
        [funnel] = Report.get_funnel_data(domain)
        self.assertEqual(funnel["workflow_id"], self.clone.id)
        bars = {bar["step_id"]: bar for bar in funnel["bars"]}
        self.assertEqual(
            [self.env["crm.sales.process.step"].browse(bar["step_id"]).code for bar in funnel["bars"]],
            ["new_lead", "new_opportunity", "developed_opportunity", "won_opportunity"],
        )
        figures = {
            code: tuple(
                bars[self.steps[code].id][key]
                for key in ("reach", "to_next", "conversion", "went_on", "dropped", "in_progress")
            )
            for code in ("new_lead", "new_opportunity", "developed_opportunity", "won_opportunity")
        }
        self.assertEqual(figures["new_lead"], (3, 2, 66.7, 2, 1, 0), "A, B, C; C disqualified")
        self.assertEqual(figures["new_opportunity"], (3, 1, 33.3, 2, 1, 0), "A, B, D; B developed; D lost")
        self.assertEqual(figures["developed_opportunity"], (1, 1, 100.0, 1, 0, 0))
        self.assertEqual(figures["won_opportunity"][:2], (2, 0))
        self.assertFalse(figures["won_opportunity"][2], "the last step converts to nothing")
        # the selection follows the filters: Sue's processes only
        [funnel] = Report.get_funnel_data(domain + [("owner_id", "=", self.salesman_2.id)])
        self.assertEqual(
            [(bar["name"], bar["reach"]) for bar in funnel["bars"]], [("New Lead", 1), ("New Opportunity", 1)]
        )

    def test_funnel_bar_opens_its_processes(self):
        Report = self.env["crm.sales.process.report"]
        domain = [("process_id", "in", self.mine.ids)]
        action = Report.action_open_funnel_processes(domain, self.steps["new_opportunity"].id)
        self.assertEqual(action["res_model"], "crm.sales.process")
        processes = self.env["crm.sales.process"].search(action["domain"])
        self.assertEqual(processes, self.a | self.b | self.d)
        action = Report.action_open_funnel_processes(domain, self.steps["new_opportunity"].id, "dropped")
        self.assertEqual(self.env["crm.sales.process"].search(action["domain"]), self.d)
        with self.assertRaises(UserError):
            Report.action_open_funnel_processes(domain, self.steps["new_lead"].id, "everything")

    def test_funnel_bars_open_as_many_processes_as_they_count(self):
        """Every bar of the funnel as it opens (the last twelve months) and
        unfiltered, the demo's history as installed included, opens the
        processes it counts: those that reached its step, and were dropped
        there. The figures themselves: the oracle test."""
        Report = self.env["crm.sales.process.report"]
        year_ago = fields.Datetime.now() - timedelta(days=365)
        opened = 0
        for domain in ([], [("date", ">=", year_ago)], [("owner_id", "=", self.salesman.id)]):
            for funnel in Report.get_funnel_data(domain):
                for bar in funnel["bars"]:
                    for kind in ("reach", "dropped"):
                        action = Report.action_open_funnel_processes(domain, bar["step_id"], kind)
                        processes = self.env["crm.sales.process"].search(action["domain"])
                        self.assertEqual(len(processes), bar[kind], (domain, bar["name"], kind))
                        self.assertTrue(all(bar["step_id"] in p.steps_reached for p in processes))
                        opened += bool(processes)
        self.assertGreater(opened, 20, "the demo history's bars, most of them not empty")

    def test_stuck(self):
        now = fields.Datetime.now()
        stuck = self._history(self.salesman, "lead", [], name="SP Stuck")
        fresh = self._history(self.salesman, "lead", [], name="SP Fresh")
        self._date_log(stuck, [0], base=now - timedelta(days=10))
        self._date_log(fresh, [0], base=now - timedelta(days=1))
        self.assertFalse(stuck.is_stuck, "four stays have ended in New Lead: too few to say what is long")
        self.assertEqual(stuck.stuck_threshold_days, 0.0)
        # a fifth stay, of 3 days: 1, 2, 3, 3, 4 -> p90 = 3 + 0.6 * (4 - 3)
        self._history(self.salesman, "lead", [("qualify", {"company_name": "Initech SP"}, 3)], name="SP Fifth")
        stuck.invalidate_recordset()
        self.assertTrue(stuck.is_stuck, "10 days in New Lead, where 90% of the stays end within 3.6")
        self.assertAlmostEqual(stuck.stuck_threshold_days, 3.6)
        self.assertFalse(fresh.is_stuck)
        self.assertFalse(self.a.is_stuck, "a closed process is never stuck")
        Process = self.env["crm.sales.process"]
        candidates = self.mine | stuck | fresh
        self.assertEqual(Process.search([("id", "in", candidates.ids), ("is_stuck", "=", True)]), stuck)
        self.assertEqual(Process.search([("id", "in", candidates.ids), ("is_stuck", "=", False)]), candidates - stuck)
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        Process.search([("is_stuck", "=", True)])
        self.assertLessEqual(self.cr.sql_log_count - before, 4, "the thresholds of every step in one query")

    def test_not_stuck_within_a_day_where_stays_take_seconds(self):
        """Forty leads qualified as soon as they came: 90% of the stays in
        New Lead took seconds. A lead waiting there for two hours is not
        stuck; one waiting for two days is."""
        Process = self.env["crm.sales.process"].with_user(self.salesman)
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"SP Instant {i}",
                    "type": "lead",
                    "team_id": self.team.id,
                    "user_id": self.salesman.id,
                    "partner_name": "Initech SP",
                }
                for i in range(40)
            ]
        )
        Process.browse(Process.start_from_lead(leads.ids)).run_transition("qualify", {"company_name": "Initech SP"})
        p90 = self.env["crm.sales.process.step.time.report"]._step_p90(self.steps["new_lead"].ids)
        self.assertLess(p90[self.steps["new_lead"].id], 0.01, "44 stays, 40 of a few seconds")
        now = fields.Datetime.now()
        waiting = self._history(self.salesman, "lead", [], name="SP Waiting")
        forgotten = self._history(self.salesman, "lead", [], name="SP Forgotten")
        self._date_log(waiting, [0], base=now - timedelta(hours=2))
        self._date_log(forgotten, [0], base=now - timedelta(days=2))
        self.assertFalse(waiting.is_stuck)
        self.assertTrue(forgotten.is_stuck)
        self.assertEqual(forgotten.stuck_threshold_days, 1.0, "never under a day")
        both = waiting | forgotten
        self.assertEqual(
            self.env["crm.sales.process"].search([("id", "in", both.ids), ("is_stuck", "=", True)]), forgotten
        )

    # -- visibility -------------------------------------------------------

    def test_salesman_sees_only_his_rows_and_no_other_company(self):
        models = (
            "crm.sales.process.report",
            "crm.sales.process.step.time.report",
            "crm.sales.process.visit.report",
            "crm.sales.process.journey.report",
        )
        everything = [("process_id", "in", (self.mine | self.e).ids)]
        for model in models:
            with self.subTest(model=model):
                Model = self.env[model]
                seen = {
                    user: Model.with_user(user).search(everything).process_id
                    for user in (self.salesman, self.salesman_2, self.manager, self.other_user)
                }
                self.assertEqual(seen[self.salesman], (self.a | self.b) & seen[self.manager])
                self.assertEqual(seen[self.salesman_2], (self.c | self.d) & seen[self.manager])
                self.assertFalse(seen[self.manager] & self.e, "another company's rows stay hidden")
                self.assertFalse(seen[self.other_user] & self.mine)
        self.assertEqual(
            self.env["crm.sales.process.report"].with_user(self.other_user).search(everything).process_id,
            self.e,
        )
        [(count,)] = self._facts(["__count"], user=self.salesman)
        self.assertEqual(count, 7 + 4)
        funnel = self.env["crm.sales.process.report"].with_user(self.salesman_2).get_funnel_data(everything)
        self.assertEqual(sum(bar["reach"] for bar in funnel[0]["bars"]), 2, "C in New Lead, D in New Opportunity")
