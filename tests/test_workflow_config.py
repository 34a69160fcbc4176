# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestWorkflowConfig(SalesProcessCase):
    """Workflows an administrator clones and customizes without code."""

    def _clone(self, name="Custom B2B"):
        clone = self.workflow.with_user(self.manager).copy()
        clone.name = name
        return clone

    def _step(self, workflow, code):
        return workflow.step_ids.filtered(lambda s: s.code == code)

    def _transition(self, workflow, code):
        return workflow.transition_ids.filtered(lambda t: t.code == code)

    def _add_negotiation(self, workflow):
        """The customization of the acceptance: a Negotiation step between
        Developed and Won, reached by Negotiate, gated three ways."""
        stage = self.env["crm.stage"].create({"name": "SP Negotiation", "sequence": 4})
        negotiation = self.env["crm.sales.process.step"].create(
            {
                "workflow_id": workflow.id,
                "code": "negotiation",
                "name": "Negotiation",
                "sequence": 45,
                "record_type": "opportunity",
                "stage_id": stage.id,
                "max_days": 7,
                "guidance": "<p>Agree on the price.</p>",
            }
        )
        negotiate = self.env["crm.sales.process.transition"].create(
            {
                "workflow_id": workflow.id,
                "code": "negotiate",
                "name": "Negotiate",
                "sequence": 55,
                "effect": "none",
                "button_style": "primary",
                "from_step_ids": [Command.set(self._step(workflow, "developed_opportunity").ids)],
                "to_step_id": negotiation.id,
                "group_ids": [Command.set(self.env.ref("sales_team.group_sale_salesman_all_leads").ids)],
                "domain": "[('expected_revenue', '>', 1000)]",
                "required_field_ids": [Command.set(self.env["ir.model.fields"]._get("crm.lead", "date_deadline").ids)],
            }
        )
        for code in ("close_as_won", "close_as_lost"):
            self._transition(workflow, code).from_step_ids |= negotiation
        return negotiation, negotiate

    # -- clone ----------------------------------------------------------

    def test_clone_is_deep_and_independent(self):
        running = self._process_at("developed_opportunity")
        clone = self._clone()
        self.assertEqual(self.workflow.with_user(self.manager).copy().name, "B2B Sales Process (copy)")
        self.assertEqual(sorted(clone.step_ids.mapped("code")), sorted(self.workflow.step_ids.mapped("code")))
        self.assertEqual(
            sorted(clone.transition_ids.mapped("code")), sorted(self.workflow.transition_ids.mapped("code"))
        )
        self.assertFalse(clone.step_ids & self.workflow.step_ids)
        for transition in clone.transition_ids:
            self.assertEqual((transition.from_step_ids | transition.to_step_id).workflow_id, clone)
        self.assertEqual(
            self._transition(clone, "close_as_won").from_step_ids.mapped("code"),
            ["new_opportunity", "developed_opportunity"],
        )
        self.assertEqual(self._step(clone, "new_opportunity").stage_id, self.steps["new_opportunity"].stage_id)
        # editing the copy changes neither the original nor its processes
        original = [(t.code, t.name, t.from_step_ids.ids, t.to_step_id.id) for t in self.workflow.transition_ids]
        self._transition(clone, "close_as_won").write(
            {"name": "Sign", "from_step_ids": [Command.set(self._step(clone, "developed_opportunity").ids)]}
        )
        self._transition(clone, "develop").unlink()
        self._step(clone, "won_opportunity").name = "Signed"
        self._add_negotiation(clone)
        self.assertEqual(
            [(t.code, t.name, t.from_step_ids.ids, t.to_step_id.id) for t in self.workflow.transition_ids],
            original,
        )
        self.assertEqual(self.steps["won_opportunity"].name, "Won Opportunity")
        self.assertEqual(running.available_transition_ids.mapped("code"), ["close_as_won", "close_as_lost"])
        running.run_transition("close_as_won", {"close_revenue": 1})
        self.assertEqual(running.step_id, self.steps["won_opportunity"])

    # -- a customized workflow driven end to end ---------------------------

    def test_customized_workflow_end_to_end(self):
        clone = self._clone()
        negotiation, negotiate = self._add_negotiation(clone)
        self.assertFalse(clone.problems)
        self.team.sales_process_workflow_id = clone
        process = self._process_at("developed_opportunity")
        self.assertEqual(process.workflow_id, clone)
        opportunity = process.opportunity_id
        # group restriction: a salesman (own documents) does not see nor run it
        self.assertNotIn(negotiate, process.with_user(self.salesman).available_transition_ids)
        with self.assertRaises(UserError) as caught:
            process.with_user(self.salesman).run_transition("negotiate")
        self.assertIn("only members of", str(caught.exception))
        # the manager sees it only when the record meets the condition
        opportunity.expected_revenue = 500
        as_manager = process.with_user(self.manager)
        self.assertNotIn(negotiate, as_manager.available_transition_ids)
        with self.assertRaises(UserError) as caught:
            as_manager.run_transition("negotiate")
        self.assertIn("condition", str(caught.exception))
        opportunity.expected_revenue = 5000
        as_manager.invalidate_recordset()
        self.assertIn(negotiate, as_manager.available_transition_ids)
        # required record fields are listed by their labels
        with self.assertRaises(UserError) as caught:
            as_manager.run_transition("negotiate")
        self.assertIn("Expected Closing", str(caught.exception))
        self.assertEqual(process.step_code, "developed_opportunity")
        opportunity.date_deadline = fields.Date.today() + timedelta(days=30)
        as_manager.run_transition("negotiate")
        self.assertEqual(process.step_id, negotiation)
        self.assertEqual(opportunity.stage_id, negotiation.stage_id)
        self.assertEqual(opportunity.sales_process_guidance, "<p>Agree on the price.</p>")
        self.assertConsistent(process)
        # and on to a built-in effect from the custom step
        self.assertEqual(process.available_transition_ids.mapped("code"), ["close_as_won", "close_as_lost"])
        process.run_transition("close_as_won", {"close_revenue": 4000})
        self.assertEqual(process.step_code, "won_opportunity")
        self.assertConsistent(process)
        # the default workflow's processes are unaffected
        other_team = self.team.copy({"name": "SP Default Channel", "sales_process_workflow_id": self.workflow.id})
        default_process = self._start(self._lead(team_id=other_team.id), user=self.salesman)
        self.assertEqual(default_process.workflow_id, self.workflow)

    def test_server_action_runs_after_the_effect(self):
        clone = self._clone()
        action = self.env["ir.actions.server"].create(
            {
                "name": "SP set priority",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "state": "code",
                "code": "records.write({'priority': '3'})",
            }
        )
        self._transition(clone, "qualify").server_action_id = action
        self.team.sales_process_workflow_id = clone
        process = self._start(user=self.salesman)
        process.with_user(self.salesman).run_transition("qualify", {"company_name": "Initech SP"})
        self.assertEqual(process.opportunity_id.priority, "3")
        self.assertEqual(process.opportunity_id.type, "opportunity")

    def test_failing_server_action_undoes_the_transition(self):
        clone = self._clone()
        action = self.env["ir.actions.server"].create(
            {
                "name": "SP refuse",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "state": "code",
                "code": "raise UserError('Not on Fridays')",
            }
        )
        self._transition(clone, "qualify").server_action_id = action
        self.team.sales_process_workflow_id = clone
        process = self._start(user=self.salesman)
        before = self.snapshot(process, process.lead_id)
        with self.assertRaises(UserError):
            process.run_transition("qualify", {"company_name": "Initech SP"})
        self.assertUnchanged(before, process, process.lead_id)

    def test_new_workflow_from_scratch(self):
        Workflow = self.env["crm.sales.process.workflow"].with_user(self.manager)
        workflow = Workflow.create({"name": "Two steps"})
        self.assertIn("start transition", workflow.problems)
        Step = self.env["crm.sales.process.step"].with_user(self.manager)
        Transition = self.env["crm.sales.process.transition"].with_user(self.manager)
        talk = Step.create({"workflow_id": workflow.id, "code": "talk", "name": "Talk", "record_type": "opportunity"})
        done = Step.create(
            {
                "workflow_id": workflow.id,
                "code": "done",
                "name": "Done",
                "record_type": "opportunity",
                "outcome": "won",
                "is_final": True,
                "readonly": True,
            }
        )
        self.assertIn('"Talk" cannot be reached', workflow.problems)
        Transition.create(
            {"workflow_id": workflow.id, "code": "start", "name": "Start", "effect": "start", "to_step_id": talk.id}
        )
        Transition.create(
            {
                "workflow_id": workflow.id,
                "code": "sign",
                "name": "Sign",
                "effect": "close_won",
                "from_step_ids": [Command.set(talk.ids)],
                "to_step_id": done.id,
            }
        )
        self.assertFalse(workflow.problems)
        self.team.sales_process_workflow_id = workflow
        process = self._start(self._lead(type="opportunity"), user=self.salesman)
        self.assertEqual(process.step_id, talk)
        process.run_transition("sign", {"close_revenue": 10})
        self.assertEqual(process.step_id, done)
        self.assertEqual(process.opportunity_id.won_status, "won")
        self.assertConsistent(process)
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(self._lead().id)
        self.assertIn("no start transition for a lead", str(caught.exception))

    def test_team_workflow_decides_new_processes_only(self):
        running = self._start(user=self.salesman)
        clone = self._clone()
        self.team.sales_process_workflow_id = clone
        self.assertEqual(running.workflow_id, self.workflow)
        new = self._start(user=self.salesman)
        self.assertEqual(new.workflow_id, clone)
        self.assertEqual(new.step_id, self._step(clone, "new_lead"))
        running.run_transition("qualify", {"company_name": "Initech SP"})
        self.assertEqual(running.step_id, self.steps["new_opportunity"])
        b2b = self.env["crm.team"].create({"name": "SP fresh B2B", "channel_type": "b2b"})
        self.assertEqual(b2b.sales_process_workflow_id, self.workflow, "a new B2B channel gets the default")

    # -- move processes ---------------------------------------------------

    def test_move_processes_dry_run_and_move(self):
        at_lead = self._process_at("new_lead")
        at_opportunity = self._process_at("new_opportunity")
        at_developed = self._process_at("developed_opportunity")
        won = self._process_at("won_opportunity")
        clone = self._clone()
        self._step(clone, "developed_opportunity").code = "proposal"  # no same-code match
        wizard = (
            self.env["crm.sales.process.move"]
            .with_user(self.manager)
            .create({"source_workflow_id": self.workflow.id, "target_workflow_id": clone.id})
        )
        by_step = {line.source_step_id.code: line for line in wizard.line_ids}
        # steps map by code, else by name
        self.assertEqual(by_step["new_lead"].target_step_id, self._step(clone, "new_lead"))
        self.assertEqual(by_step["developed_opportunity"].target_step_id, self._step(clone, "proposal"))
        by_step["developed_opportunity"].target_step_id = False
        self.assertEqual(by_step["developed_opportunity"].problem, "no step mapped")
        self.assertGreaterEqual(by_step["new_lead"].process_count, 1)
        self.assertEqual(by_step["won_opportunity"].process_count, 0, "closed processes stay unless asked")
        moving = self.Process.search(
            [
                ("workflow_id", "=", self.workflow.id),
                ("is_closed", "=", False),
                ("step_code", "!=", "developed_opportunity"),
            ]
        )
        self.assertEqual(wizard.move_count, len(moving))
        self.assertEqual(
            wizard.stranded_count,
            self.Process.search_count(
                [
                    ("workflow_id", "=", self.workflow.id),
                    ("step_code", "=", "developed_opportunity"),
                    ("is_closed", "=", False),
                ]
            ),
        )
        # an incompatible mapping is stranded too
        by_step["new_opportunity"].target_step_id = self._step(clone, "won_opportunity")
        self.assertIn("won opportunity", by_step["new_opportunity"].problem)
        by_step["new_opportunity"].target_step_id = self._step(clone, "new_opportunity")
        wizard.action_move()
        self.assertEqual(at_lead.workflow_id, clone)
        self.assertEqual(at_lead.step_id, self._step(clone, "new_lead"))
        self.assertEqual(at_lead.lead_id.sales_process_step_id, self._step(clone, "new_lead"))
        self.assertEqual(at_opportunity.step_id, self._step(clone, "new_opportunity"))
        self.assertEqual(at_developed.workflow_id, self.workflow, "stranded: not moved")
        self.assertEqual(won.workflow_id, self.workflow)
        log = at_lead.log_ids.sorted()[0]
        self.assertFalse(log.transition_id)
        self.assertIn("Moved from workflow", log.note)
        self.assertEqual(log.to_step_id, self._step(clone, "new_lead"))
        # moved processes go on in their new workflow
        at_opportunity.run_transition("develop", {"partner_id": self.customer.id})
        self.assertEqual(at_opportunity.step_id, self._step(clone, "proposal"))
        self.assertConsistent(at_opportunity)

    # -- validation ---------------------------------------------------------

    def test_a_workflow_in_use_must_stay_complete(self):
        clone = self._clone()
        self._transition(clone, "start_from_lead").unlink()
        self._transition(clone, "start_from_opportunity").unlink()
        self.assertIn("start transition", clone.problems)
        with self.assertRaises(ValidationError) as caught:
            self.team.sales_process_workflow_id = clone
        self.assertIn("Add a start transition", str(caught.exception))
        # the default workflow is in use: breaking it is refused on save,
        # whether through its form or on the transition itself
        disqualify = self.env.ref("crm_sales_process.transition_disqualify")
        with self.assertRaises(ValidationError) as caught:
            self.workflow.write({"transition_ids": [Command.update(disqualify.id, {"active": False})]})
        self.assertIn("Disqualified Lead", str(caught.exception))
        self.assertIn("cannot be reached", str(caught.exception))
        with self.assertRaises(ValidationError):
            disqualify.active = False
        with self.assertRaises(ValidationError) as caught:
            self.env["crm.sales.process.step"].create(
                {"workflow_id": self.workflow.id, "code": "late", "name": "Late", "record_type": "lead"}
            )
        self.assertIn("Duplicate the workflow", str(caught.exception))

    def test_unreachable_step(self):
        clone = self._clone()
        orphan = self.env["crm.sales.process.step"].create(
            {"workflow_id": clone.id, "code": "orphan", "name": "Orphan", "record_type": "opportunity"}
        )
        self.assertIn('Step "Orphan" cannot be reached', clone.problems)
        with self.assertRaises(ValidationError):
            self.team.sales_process_workflow_id = clone
        orphan.active = False
        self.team.sales_process_workflow_id = clone

    @mute_logger("odoo.sql_db")
    def test_codes_are_unique_in_a_workflow(self):
        clone = self._clone()
        with self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self._step(clone, "new_lead").copy({"name": "Again"})
            self.env.flush_all()
        with self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self._transition(clone, "qualify").copy({"name": "Again"})
            self.env.flush_all()
        # the same code in another workflow is fine
        self.assertEqual(self._step(clone, "new_lead").code, self.steps["new_lead"].code)

    def test_transition_steps_belong_to_its_workflow(self):
        clone = self._clone()
        with self.assertRaises(ValidationError) as caught:
            self._transition(clone, "qualify").to_step_id = self.steps["new_opportunity"]
        self.assertIn("its own workflow", str(caught.exception))

    def test_effects_only_where_they_make_sense(self):
        clone = self._clone()
        steps = {code: self._step(clone, code) for code in self.steps}
        cases = [
            ("qualify", ["new_opportunity"], "developed_opportunity", "cannot leave from"),
            ("qualify", ["new_lead"], "disqualified_lead", "cannot lead to"),
            ("disqualify", ["new_lead"], "new_opportunity", "cannot lead to"),
            ("close_won", ["developed_opportunity"], "lost_opportunity", "cannot lead to"),
            ("close_lost", ["won_opportunity"], "lost_opportunity", "cannot leave from"),
            ("reopen", ["new_opportunity"], "new_opportunity", "cannot leave from"),
            ("reactivate", ["new_lead"], "new_lead", "cannot leave from"),
            ("develop", ["new_lead"], "developed_opportunity", "cannot leave from"),
            ("follow_up", ["disqualified_lead"], "new_lead", "stays in its step"),
            ("none", ["new_lead"], "new_opportunity", "keeps the record type"),
            ("none", ["won_opportunity"], "new_opportunity", "cannot leave from"),
            ("start", ["new_lead"], "new_lead", "no From Steps"),
            ("qualify", [], "new_opportunity", "starts a process"),
            ("start", [], "won_opportunity", "open step"),
        ]
        Transition = self.env["crm.sales.process.transition"].with_user(self.manager)
        for effect, from_codes, to_code, fragment in cases:
            with self.subTest(effect=effect, to=to_code), self.assertRaises(ValidationError) as caught:
                Transition.create(
                    {
                        "workflow_id": clone.id,
                        "code": f"bad_{effect}_{to_code}",
                        "name": "Bad",
                        "effect": effect,
                        "to_step_id": steps[to_code].id,
                        "from_step_ids": [Command.set([steps[c].id for c in from_codes])],
                    }
                )
            self.assertIn(fragment, str(caught.exception))
        # and where they make sense they are accepted
        Transition.create(
            {
                "workflow_id": clone.id,
                "code": "lose_developed",
                "name": "Give up",
                "effect": "close_lost",
                "from_step_ids": [Command.set(steps["developed_opportunity"].ids)],
                "to_step_id": steps["lost_opportunity"].id,
            }
        )

    def test_invalid_condition(self):
        clone = self._clone()
        with self.assertRaises(ValidationError) as caught:
            self._transition(clone, "qualify").domain = "[('no_such_field', '=', 1)]"
        self.assertIn("not a valid domain", str(caught.exception))

    def test_used_steps_and_transitions_are_archived_not_deleted(self):
        process = self._process_at("new_opportunity")
        with self.assertRaises(UserError) as caught:
            self.steps["new_lead"].with_user(self.manager).unlink()
        self.assertIn("archive it instead", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            self.env.ref("crm_sales_process.transition_qualify").with_user(self.manager).unlink()
        self.assertIn("archive it instead", str(caught.exception))
        with self.assertRaises(UserError):
            self.workflow.with_user(self.manager).unlink()
        with self.assertRaises(UserError) as caught:
            self.steps["new_opportunity"].active = False
        self.assertIn("Move Processes", str(caught.exception))
        # an unused step of a draft can be deleted
        clone = self._clone()
        extra = self.env["crm.sales.process.step"].create(
            {"workflow_id": clone.id, "code": "extra", "name": "Extra", "record_type": "lead"}
        )
        extra.unlink()
        self.assertTrue(process.exists())

    def test_workflow_of_a_channel_cannot_be_archived(self):
        with self.assertRaises(UserError) as caught:
            self.workflow.active = False
        self.assertIn("SP B2B Channel", str(caught.exception))

    # -- overdue steps ---------------------------------------------------------

    def _remind(self, batches=None):
        """Run the overdue cron as its job would, without the commits a test
        may not make; `batches`: the number of batches before its time is up."""
        done = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            done.append(processed)
            return 0 if batches is not None and len([d for d in done if d]) >= batches else float("inf")

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            return self.Process._cron_remind_overdue()

    def _reminders(self, processes):
        activity_type = self.env.ref("crm_sales_process.mail_activity_type_step_overdue")
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "in", processes.lead_ids.ids),
                ("activity_type_id", "=", activity_type.id),
            ]
        )

    def test_overdue_step_schedules_one_activity(self):
        self.steps["new_lead"].max_days = 3
        self.steps["new_opportunity"].max_days = 5
        late = self._start(user=self.salesman)
        fresh = self._start(user=self.salesman)
        late.date_step = fields.Datetime.now() - timedelta(days=4)

        self._remind()
        [activity] = self._reminders(late)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("New Lead", activity.summary)
        self.assertIn("Qualify", activity.note)
        self.assertFalse(self._reminders(fresh))
        self._remind()
        self.assertEqual(len(self._reminders(late)), 1, "one activity per stay, not one per day")
        # a new stay in an overdue step gets its own reminder
        late.run_transition("qualify", {"company_name": "Initech SP"})
        late.date_step = fields.Datetime.now() - timedelta(days=6)
        self._remind()
        self.assertEqual(len(self._reminders(late)), 2)
        self.assertEqual(late.overdue_step_id, self.steps["new_opportunity"])

    def test_overdue_again_after_coming_back_to_the_step(self):
        """A stay is reminded once; a later stay in the same step (a reopened
        deal) is a new stay, reminded again."""
        self.steps["new_opportunity"].max_days = 5
        process = self._process_at("new_opportunity")
        process.date_step = fields.Datetime.now() - timedelta(days=6)
        self._remind()
        self.assertEqual(len(self._reminders(process)), 1)
        process.run_transition("close_as_won", {"close_revenue": 100})
        process.run_transition("reopen")
        self.assertFalse(process.overdue_step_id, "a new stay is not reminded yet")
        process.date_step = fields.Datetime.now() - timedelta(days=6)
        self._remind()
        self.assertEqual(len(self._reminders(process)), 2)

    def test_overdue_reminders_in_batches_a_stopped_run_resumes(self):
        """A run whose time is up after a batch leaves the rest to the next
        run; no process is reminded twice."""
        self.steps["new_lead"].max_days = 3
        self._remind()  # the overdue processes of the demo data, if any
        late = self.Process.union(*(self._start(user=self.salesman) for __ in range(5)))
        late.date_step = fields.Datetime.now() - timedelta(days=4)
        with patch("odoo.addons.crm_sales_process.models.crm_sales_process_overdue.REMIND_BATCH", 2):
            self.assertEqual(self._remind(batches=1), late[:2].sorted("id"))
            self.assertEqual(len(self._reminders(late)), 2)
            self.assertEqual(len(self._remind(batches=1)), 2)
            self.assertEqual(len(self._remind()), 1)
            self.assertFalse(self._remind())
        for process in late:
            self.assertEqual(len(self._reminders(process)), 1, process.name)

    # -- diagram ---------------------------------------------------------------

    def test_diagram_of_the_default_workflow(self):
        from lxml import etree

        svg = etree.fromstring(str(self.workflow.diagram).encode())
        texts = {node.text for node in svg.iter("{http://www.w3.org/2000/svg}text")}
        self.assertLessEqual(set(self.workflow.step_ids.mapped("name")), texts)
        self.assertLessEqual(set(self.workflow.transition_ids.mapped("name")), texts)
        self.assertTrue(svg.get("viewBox"))

    def test_diagram_stays_readable_for_15_steps(self):
        from ..models.workflow_diagram import layout

        workflow = self.env["crm.sales.process.workflow"].create({"name": "Fifteen"})
        Step = self.env["crm.sales.process.step"]
        steps = Step.create(
            [
                {
                    "workflow_id": workflow.id,
                    "code": f"s{i}",
                    "name": f"Step number {i}",
                    "sequence": i,
                    "record_type": "opportunity",
                }
                for i in range(13)
            ]
        ) | Step.create(
            [
                {
                    "workflow_id": workflow.id,
                    "code": "won",
                    "name": "Signed",
                    "sequence": 90,
                    "record_type": "opportunity",
                    "outcome": "won",
                    "is_final": True,
                },
                {
                    "workflow_id": workflow.id,
                    "code": "lost",
                    "name": "Lost",
                    "sequence": 91,
                    "record_type": "opportunity",
                    "outcome": "lost",
                    "is_final": True,
                },
            ]
        )
        won, lost = steps[-2:]
        Transition = self.env["crm.sales.process.transition"]
        Transition.create(
            {"workflow_id": workflow.id, "code": "start", "name": "Start", "effect": "start", "to_step_id": steps[0].id}
        )
        Transition.create(
            [
                {
                    "workflow_id": workflow.id,
                    "code": f"next{i}",
                    "name": f"Advance {i}",
                    "from_step_ids": [Command.set(steps[i].ids)],
                    "to_step_id": steps[i + 1].id,
                }
                for i in range(12)
            ]
        )
        Transition.create(
            [
                {
                    "workflow_id": workflow.id,
                    "code": "back",
                    "name": "Back to start",
                    "from_step_ids": [Command.set(steps[7].ids)],
                    "to_step_id": steps[1].id,
                },
                {
                    "workflow_id": workflow.id,
                    "code": "sign",
                    "name": "Sign",
                    "effect": "close_won",
                    "from_step_ids": [Command.set(steps[10:13].ids)],
                    "to_step_id": won.id,
                },
                {
                    "workflow_id": workflow.id,
                    "code": "lose",
                    "name": "Give up",
                    "effect": "close_lost",
                    "from_step_ids": [Command.set(steps[2:13].ids)],
                    "to_step_id": lost.id,
                },
            ]
        )
        self.assertFalse(workflow.problems)
        geometry = layout(*workflow._diagram_data())
        boxes = list(geometry["nodes"].values())
        self.assertEqual(len(boxes), 15)

        def overlap(a, b):
            return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

        for i, box in enumerate(boxes):
            for other in boxes[i + 1 :]:
                self.assertFalse(overlap(box, other), "step boxes do not overlap")
        labels = [edge["label_box"] for edge in geometry["edges"]]
        for label in labels:
            for box in boxes:
                self.assertFalse(overlap(label, box), "labels stay off the boxes")
        # one arrow per (from step, to step) of every transition
        expected = sum(max(len(t.from_step_ids), 1) for t in workflow.transition_ids)
        self.assertEqual(len(geometry["edges"]), expected)
        self.assertLessEqual(geometry["width"], 1400)
        self.assertIn("Signed", str(workflow.diagram))
