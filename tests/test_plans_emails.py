# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Steps that bring their to-dos (an activity plan launched on every way
into the step, in batch) and transitions that email the customer (Odoo's
mail composer in mass mail mode, in batch; a customer without an address
does not stop the transition)."""

import re
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.sql_db import Cursor
from odoo.tests import Form, TransactionCase, tagged

from .common import SalesProcessCase
from .test_performance import PER_MESSAGE_TABLES


@contextmanager
def statements():
    """Each SQL statement run in the block, with how many times it ran."""
    counter = Counter()
    execute = Cursor.execute

    def counting(cr, query, params=None, log_exceptions=True):
        counter[re.sub(r"\s+", " ", str(getattr(query, "code", query)))] += 1
        return execute(cr, query, params, log_exceptions)

    with patch.object(Cursor, "execute", counting):
        yield counter


class PlanCase(SalesProcessCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls._new_plan("SP Develop Plan", [("Demo call", 2), ("Budget check", 5), ("Proposal", 10)])

    def activities(self, record):
        return record.activity_ids.sorted(lambda a: (a.date_deadline, a.id))

    def assertPlanLaunched(self, record, plan=None, owner=None, day=None):
        """The plan's activities are on the record, due counting from ``day``
        (default today), assigned to ``owner`` (default the salesperson), and
        its chatter says the plan was launched."""
        plan = plan or self.plan
        day = day or fields.Date.context_today(record)
        activities = self.activities(record)
        self.assertEqual(activities.mapped("summary"), plan.template_ids.sorted("sequence").mapped("summary"))
        expected = [day + timedelta(days=t.delay_count) for t in plan.template_ids.sorted("sequence")]
        self.assertEqual(activities.mapped("date_deadline"), expected)
        self.assertEqual(set(activities.user_id), {owner or record.user_id})
        self.assertTrue(
            record.message_ids.filtered(lambda m: f'the activity plan "{plan.name}" was launched' in (m.body or "")),
            "the chatter says the plan was launched",
        )


@tagged("post_install", "-at_install")
class TestActivityPlans(PlanCase):
    def test_develop_launches_the_plan_of_developed_opportunity(self):
        self.steps["developed_opportunity"].activity_plan_id = self.plan
        process = self._process_at("new_opportunity")
        self.assertFalse(process.opportunity_id.activity_ids)
        process.with_user(self.salesman).run_transition("develop", {"partner_id": self.customer.id})
        self.assertPlanLaunched(process.opportunity_id, owner=self.salesman)
        panel = process.opportunity_id.sales_process_activities
        for summary in ("Demo call", "Budget check", "Proposal"):
            self.assertIn(summary, panel, "the guidance panel lists the open activities")

    def test_a_start_launches_the_plan_of_the_first_step(self):
        self.steps["new_lead"].activity_plan_id = self.plan
        process = self._start(self._lead(user=self.salesman), user=self.manager)
        self.assertPlanLaunched(process.lead_id, owner=self.salesman)

    def test_reopen_launches_the_plan_on_the_new_opportunity(self):
        process = self._process_at("won_opportunity")
        won = process.opportunity_id
        self.steps["new_opportunity"].activity_plan_id = self.plan
        process.run_transition("reopen")
        self.assertNotEqual(process.opportunity_id, won)
        self.assertPlanLaunched(process.opportunity_id)
        self.assertFalse(won.activity_ids, "the closed record stays as it was")

    def test_a_follow_up_stays_in_the_step_and_launches_nothing(self):
        self.steps["disqualified_lead"].activity_plan_id = self.plan
        process = self._process_at("disqualified_lead")
        self.assertEqual(len(process.lead_id.activity_ids), 3)
        process.run_transition("follow_up", {"note": "call back in spring"})
        self.assertEqual(len(process.lead_id.activity_ids), 3)

    def test_a_move_to_another_workflow_launches_the_plan_of_the_new_step(self):
        copy = self.workflow.copy({"name": "SP Version 2"})
        copy_step = copy.step_ids.filtered(lambda s: s.code == "new_lead")
        copy_step.activity_plan_id = self.plan
        process = self._start()
        other_plan = self._new_plan("SP Same In Both", [("Same", 1)])
        copy.step_ids.filtered(lambda s: s.code == "new_opportunity").activity_plan_id = other_plan
        self.steps["new_opportunity"].activity_plan_id = other_plan
        same = self._process_at("new_opportunity")
        self.assertEqual(len(same.opportunity_id.activity_ids), 1)
        move = self.env["crm.sales.process.move"].create(
            {"source_workflow_id": self.workflow.id, "target_workflow_id": copy.id}
        )
        move.action_move()
        self.assertEqual(process.step_id, copy_step)
        self.assertPlanLaunched(process.lead_id)
        self.assertEqual(len(same.opportunity_id.activity_ids), 1, "the step it left had the same plan: not twice")

    def test_the_owner_unless_the_plan_names_someone(self):
        named = self._new_plan("SP Named", [("Legal review", 3)], responsible=self.salesman_2)
        self.steps["developed_opportunity"].activity_plan_id = named
        process = self._process_at("developed_opportunity")
        self.assertPlanLaunched(process.opportunity_id, plan=named, owner=self.salesman_2)

    def test_apply_to_the_processes_already_in_the_step_with_a_dry_run(self):
        waiting = self._process_at("new_opportunity") | self._process_at("new_opportunity")
        self.steps["new_opportunity"].activity_plan_id = self.plan
        action = self.steps["new_opportunity"].action_launch_activity_plan()
        launch = Form(self.env[action["res_model"]].with_context(**action["context"])).save()
        in_step = self.Process.search_count([("step_id", "=", self.steps["new_opportunity"].id)])
        self.assertEqual(launch.process_count, in_step)
        self.assertIn(f"the {in_step} Sales Processes", launch.summary)
        self.assertIn("Demo call, Budget check, Proposal", launch.summary)
        self.assertFalse(waiting.opportunity_id.activity_ids, "the dry run changes nothing")
        launch.action_launch()
        for process in waiting:
            self.assertPlanLaunched(process.opportunity_id)
        again = Form(self.env[action["res_model"]].with_context(**action["context"])).save()
        self.assertEqual(again.process_count, 0, "those that have had the plan are left out")
        self.assertIn('has had the plan "SP Develop Plan" already', again.summary)
        entered = self._process_at("new_opportunity")
        self.assertEqual(len(entered.opportunity_id.activity_ids), 3, "a process entering the step gets it")
        self.assertEqual(
            Form(self.env[action["res_model"]].with_context(**action["context"])).save().process_count,
            0,
            "and is left out too",
        )

    def test_without_a_plan_nothing_is_scheduled(self):
        process = self._process_at("developed_opportunity")
        self.assertFalse(process.opportunity_id.activity_ids)

    def test_the_diagram_shows_plans_and_emails(self):
        """A badge with the number of activities on each step with a plan (its
        tooltip names the plan and its activities), clear of the arrows'
        labels and of the other boxes; an envelope before the name of a
        transition that emails the customer."""
        from lxml import etree

        from ..models.workflow_diagram import layout

        svg_ns = "{http://www.w3.org/2000/svg}"
        with_plan = self.workflow.step_ids.filtered(lambda s: s.outcome == "open")
        with_plan.activity_plan_id = self.plan
        close_as_won = self.workflow.transition_ids.filtered(lambda t: t.code == "close_as_won")
        close_as_won.mail_template_id = self.env["mail.template"].create(
            {"name": "SP Diagram", "model_id": self.env["ir.model"]._get_id("crm.lead")}
        )
        svg = etree.fromstring(str(self.workflow.diagram).encode())
        badges = [g for g in svg.iter(f"{svg_ns}g") if g.get("class") == "o_sales_process_plan_badge"]
        self.assertEqual(len(badges), len(with_plan))
        for badge in badges:
            self.assertEqual(badge.find(f"{svg_ns}text").text, "\u2611 3 activities")
            self.assertEqual(
                badge.find(f"{svg_ns}title").text, 'Activity plan "SP Develop Plan": Demo call, Budget check, Proposal'
            )
        texts = {node.text for node in svg.iter(f"{svg_ns}text")}
        self.assertIn("\u2709 Close as Won", texts)
        self.assertIn("Close as Lost", texts, "no envelope without an email")

        def box(rect):
            return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))

        def inside(inner, outer):
            return (
                outer[0] <= inner[0]
                and inner[0] + inner[2] <= outer[0] + outer[2]
                and outer[1] <= inner[1]
                and inner[1] + inner[3] <= outer[1] + outer[3]
            )

        # each badge inside its own step's box (the layout makes the box
        # taller for it), so the labels and arrows that stay off the boxes
        # stay off the badges
        geometry = layout(*self.workflow._diagram_data())
        step_boxes = {step: geometry["nodes"][step.id] for step in self.workflow.step_ids}
        for badge in badges:
            rect = box(badge.find(f"{svg_ns}rect"))
            holders = [step for step, step_box in step_boxes.items() if inside(rect, step_box)]
            self.assertEqual(len(holders), 1, f"badge {rect} in one step box")
            self.assertIn(holders[0], with_plan)
        for step in self.workflow.step_ids - with_plan:
            self.assertEqual(step_boxes[step][3], step_boxes[with_plan[0]][3] - 16, "no room taken without a plan")

    def test_batch_of_500_costs_no_query_per_record_beyond_odoo_plan_wizard(self):
        """Develop 500 opportunities with a 3-activity plan: what the plan adds
        to the transition costs, per record, no more queries than Odoo's own
        plan wizard costs per activity on the same number of records; no
        statement outside the chatter's runs once per record."""
        size = 500
        self.steps["developed_opportunity"].activity_plan_id = self.plan
        Lead = self.env["crm.lead"].with_context(mail_create_nolog=True)

        def opportunities(name):
            return Lead.create(
                [
                    {
                        "name": f"{name} {i}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "user_id": self.manager.id,
                        "partner_id": self.customer.id,
                    }
                    for i in range(size)
                ]
            )

        def develop(plan):
            self.steps["developed_opportunity"].activity_plan_id = plan
            Process = self.Process.with_user(self.manager)
            processes = Process.browse(Process.start_from_opportunity(opportunities("SP Batch").ids))
            self.env.flush_all()
            self.env.cr.precommit.run()
            before = self.cr.sql_log_count
            with statements() as counter:
                processes.run_transition("develop", {"partner_id": self.customer.id})
                self.env.flush_all()
                self.env.cr.precommit.run()
            return processes, self.cr.sql_log_count - before, counter

        __, without, __ = develop(False)
        processes, with_plan, counter = develop(self.plan)
        self.assertEqual(len(processes.opportunity_id.activity_ids), 3 * size)
        looping = {
            text: n
            for text, n in counter.items()
            if n >= size and not PER_MESSAGE_TABLES.search(text.split(" WHERE ")[0])
        }
        self.assertFalse(looping, f"statements run once per record: {looping}")

        native = opportunities("SP Wizard")
        self.env.flush_all()
        self.env.cr.precommit.run()
        before = self.cr.sql_log_count
        self.env["mail.activity.schedule"].with_user(self.manager).with_context(
            active_model="crm.lead", active_ids=native.ids
        ).create({"res_model": "crm.lead", "res_ids": repr(native.ids), "plan_id": self.plan.id}).action_schedule_plan()
        self.env.flush_all()
        self.env.cr.precommit.run()
        wizard = self.cr.sql_log_count - before
        self.assertEqual(len(native.activity_ids), 3 * size)
        share = with_plan - without
        self.assertLessEqual(share / size, wizard / (3 * size), f"plan share {share}, Odoo's wizard {wizard}")


@tagged("post_install", "-at_install")
class TestTransitionEmails(PlanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.env["mail.template"].create(
            {
                "name": "SP Thank You",
                "model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "use_default_to": True,
                "subject": "Thank you {{ object.name }}",
                "body_html": '<p>Thank you for <t t-out="object.name"/></p>',
            }
        )
        cls.close_as_won = cls.workflow.transition_ids.filtered(lambda t: t.code == "close_as_won")
        cls.close_as_won.mail_template_id = cls.template

    def _opportunity(self, name="Website redesign"):
        """A process in New Opportunity; its customer a contact with an email."""
        process = self._start(self._lead(name), user=self.salesman)
        process.run_transition("qualify", {"company_name": "Initech SP"})
        return process

    def mails(self, records):
        """The emails of the template to the records' customers."""
        return (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "crm.lead"), ("res_id", "in", records.ids), ("subject", "=like", "Thank you%")])
        )

    def test_sent_in_batch_through_the_composer_and_logged(self):
        processes = self._opportunity("SP Fit-out") | self._opportunity("SP Canteen")
        records = processes.opportunity_id
        with statements() as counter:
            processes.with_user(self.salesman).run_transition("close_as_won", {"close_revenue": 900})
        self.assertEqual(set(processes.mapped("step_code")), {"won_opportunity"})
        mails = self.mails(records)
        self.assertEqual(len(mails), 2)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "queued: sent after the commit")
        self.assertEqual(set(mails.mapped("subject")), {"Thank you SP Fit-out", "Thank you SP Canteen"})
        for record in records:
            logged = record.message_ids.filtered(lambda m: m.message_type == "email_outgoing")
            self.assertEqual(len(logged), 1, "the chatter logs the email")
        composers = sum(n for text, n in counter.items() if text.startswith('INSERT INTO "mail_compose_message"'))
        self.assertEqual(composers, 1, "one composer for the batch")

    def test_a_customer_without_email_does_not_block(self):
        with_email = self._opportunity("SP Fit-out")
        without = self._opportunity("SP Canteen")
        without.opportunity_id.write({"email_from": False})
        without.opportunity_id.partner_id.email = False
        (with_email | without).run_transition("close_as_won", {"close_revenue": 900})
        self.assertEqual(without.step_code, "won_opportunity")
        self.assertFalse(self.mails(without.opportunity_id))
        self.assertEqual(len(self.mails(with_email.opportunity_id)), 1)
        note = without.opportunity_id.message_ids.filtered(lambda m: "was not sent" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn('The email "SP Thank You" was not sent: "Peter Gibbons" has no email address.', note.body)

    def test_turned_off_for_this_run(self):
        process = self._opportunity()
        with self.assertRaisesRegex(UserError, "Send the Email must be true or false, not 'no'"):
            process.run_transition("close_as_won", {"close_revenue": 900, "send_email": "no"})
        process.run_transition("close_as_won", {"close_revenue": 900, "send_email": False})
        self.assertFalse(self.mails(process.opportunity_id))
        self.assertEqual(process.step_code, "won_opportunity")

    def test_a_mandatory_email_cannot_be_turned_off(self):
        self.close_as_won.mail_optional = False
        process = self._opportunity()
        with self.assertRaisesRegex(UserError, "unknown values send_email"):
            process.run_transition("close_as_won", {"close_revenue": 900, "send_email": False})
        process.run_transition("close_as_won", {"close_revenue": 900})
        self.assertEqual(len(self.mails(process.opportunity_id)), 1)

    def test_the_form_says_which_email_goes_to_whom_and_can_turn_it_off(self):
        process = self._opportunity()
        action = (
            process.with_user(self.salesman)
            .with_context(sales_process_transition_id=self.close_as_won.id)
            .action_open_transition()
        )
        wizard_form = Form(self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"]))
        self.assertEqual(
            wizard_form.email_notice,
            'An email "SP Thank You" will be sent to "Peter Gibbons" <peter@initech.example.com>.',
        )
        wizard_form.send_email = False
        self.assertEqual(wizard_form.email_notice, 'The email "SP Thank You" will not be sent.')
        wizard_form.save().action_confirm()
        self.assertEqual(process.step_code, "won_opportunity")
        self.assertFalse(self.mails(process.opportunity_id))

    def test_the_form_of_a_customer_without_email(self):
        process = self._opportunity()
        process.opportunity_id.write({"email_from": False})
        process.opportunity_id.partner_id.email = False
        wizard = (
            self.env["crm.sales.process.transition.wizard"]
            .with_context(default_transition_id=self.close_as_won.id, default_process_ids=process.ids)
            .create({})
        )
        self.assertIn('cannot be sent: "Peter Gibbons" has no email address', wizard.email_notice)

    def test_a_transition_without_values_opens_its_form_to_say_so(self):
        reopen = self.workflow.transition_ids.filtered(lambda t: t.code == "reopen")
        process = self._process_at("won_opportunity")
        action = process.with_context(sales_process_transition_id=reopen.id).action_open_transition()
        self.assertTrue(action, "no email: it runs at once")
        self.assertEqual(process.step_code, "new_opportunity")
        process = self._process_at("won_opportunity")
        reopen.mail_template_id = self.template
        action = process.with_context(sales_process_transition_id=reopen.id).action_open_transition()
        self.assertEqual(action["res_model"], "crm.sales.process.transition.wizard")
        self.assertEqual(process.step_code, "won_opportunity")


@tagged("post_install", "-at_install")
class TestDemoAsInstalled(TransactionCase):
    """The demo workflow as the module loads it: an activity plan on
    Developed Opportunity, a thank-you email on Close as Won."""

    def test_the_demo_plan_and_email(self):
        workflow = self.env.ref("crm_sales_process.workflow_b2b")
        developed = workflow.step_ids.filtered(lambda s: s.code == "developed_opportunity")
        plan = self.env.ref("crm_sales_process.demo_activity_plan_develop")
        self.assertEqual(developed.activity_plan_id, plan)
        self.assertEqual(len(plan.template_ids), 3)
        close_as_won = workflow.transition_ids.filtered(lambda t: t.code == "close_as_won")
        self.assertEqual(close_as_won.mail_template_id, self.env.ref("crm_sales_process.demo_mail_template_thank_you"))
        # a demo opportunity developed in the demo: the plan's activities are on it
        showroom = self.env["crm.sales.process"].search([("name", "=", "Showroom fit-out")])
        self.assertEqual(showroom.step_code, "developed_opportunity")
        self.assertEqual(
            set(showroom.opportunity_id.activity_ids.mapped("summary")),
            set(plan.template_ids.mapped("summary")),
        )
        # closing it as won thanks the customer
        showroom.run_transition("close_as_won", {"close_revenue": 48000})
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("model", "=", "crm.lead"),
                    ("res_id", "=", showroom.opportunity_id.id),
                    ("subject", "=like", "Thank you%"),
                ]
            )
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("Thank you for choosing us", mail.body_html)
        # the meeting room is developed now: the plan goes with it
        meeting = self.env["crm.sales.process"].search([("name", "=", "Meeting room upgrade")])
        meeting.run_transition("develop", {"partner_id": meeting.opportunity_id.partner_id.commercial_partner_id.id})
        self.assertEqual(len(meeting.opportunity_id.activity_ids), 3)
