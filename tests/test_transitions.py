# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields
from odoo.tests import tagged

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestTransitions(SalesProcessCase):
    """Every transition of DESIGN.md section 1, with exactly its effect."""

    def test_start_from_lead(self):
        lead = self._lead(user_id=False)
        process = self._start(lead, user=self.salesman)
        self.assertEqual(process.step_code, "new_lead")
        self.assertEqual(process.lead_id, lead)
        self.assertFalse(process.opportunity_id)
        self.assertEqual(process.workflow_id, self.workflow)
        self.assertEqual(process.team_id, self.team)
        # user_id defaults to the current user, who becomes the lead's owner
        self.assertEqual(process.user_id, self.salesman)
        self.assertEqual(lead.user_id, self.salesman)
        self.assertEqual(process.date_start, fields.Date.context_today(process))
        self.assertEqual(process.name, lead.name)
        self.assertConsistent(process)
        log = process.log_ids
        self.assertEqual(len(log), 1)
        self.assertEqual(log.transition_id.code, "start_from_lead")
        self.assertFalse(log.from_step_id)
        self.assertEqual(log.to_step_id.code, "new_lead")
        self.assertEqual(log.user_id, self.salesman)
        self.assertEqual(log.values["team_id"], self.team.id)

    def test_start_with_values(self):
        lead = self._lead(team_id=False, user=self.salesman)
        process = self._start(
            lead,
            values={"team_id": self.team.id, "user_id": self.salesman_2.id, "date_start": "2026-01-15"},
        )
        self.assertEqual(process.team_id, self.team)
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(process.user_id, self.salesman_2)
        self.assertEqual(str(process.date_start), "2026-01-15")

    def test_start_for_a_colleague(self):
        lead = self._lead(user=self.salesman)
        process = self._start(lead, user=self.salesman, values={"user_id": self.salesman_2.id})
        self.assertEqual(process.user_id, self.salesman_2)
        self.assertEqual(lead.user_id, self.salesman_2)
        self.assertEqual(process.step_code, "new_lead")
        # handed over: the salesman no longer sees it, the colleague does
        self.assertFalse(self.Process.with_user(self.salesman).search([("id", "=", process.id)]))
        process.with_user(self.salesman_2).run_transition("disqualify")

    def test_start_from_opportunity(self):
        opportunity = self._lead(type="opportunity", partner_id=self.customer_contact.id)
        process = self._start(opportunity)
        self.assertEqual(process.step_code, "new_opportunity")
        self.assertFalse(process.lead_id)
        self.assertEqual(process.opportunity_id, opportunity)
        # the step's pipeline stage
        self.assertEqual(opportunity.stage_id, self.steps["new_opportunity"].stage_id)
        self.assertConsistent(process)

    def test_start_many(self):
        leads = self._lead("A") | self._lead("B") | self._lead("C")
        ids = self.Process.start_from_lead(leads.ids)
        processes = self.Process.browse(ids)
        self.assertEqual(processes.lead_id, leads)
        self.assertEqual(set(processes.mapped("step_code")), {"new_lead"})

    def test_qualify_with_company_name_creates_company_and_contact(self):
        process = self._start()
        lead = process.lead_id
        result = process.run_transition(
            "qualify", {"opportunity_name": "Initech website", "company_name": "Initech SP", "notes": "<p>Big one</p>"}
        )
        self.assertIs(result, True)
        self.assertEqual(process.step_code, "new_opportunity")
        # Odoo's conversion: the very record became the opportunity
        self.assertEqual(lead.type, "opportunity")
        self.assertTrue(lead.date_conversion)
        self.assertEqual(process.opportunity_id, lead)
        self.assertEqual(process.lead_id, lead)
        self.assertEqual(lead.name, "Initech website")
        self.assertIn("Big one", lead.description)
        company = lead.partner_id.parent_id
        self.assertTrue(company.is_company)
        self.assertEqual(company.name, "Initech SP")
        self.assertEqual(lead.partner_id.name, "Peter Gibbons")
        self.assertEqual(lead.partner_id.email, "peter@initech.example.com")
        self.assertEqual(lead.stage_id, self.steps["new_opportunity"].stage_id)
        self.assertConsistent(process)

    def test_qualify_reuses_company_case_insensitively(self):
        existing = self.env["res.partner"].create({"name": "Umbrella SP Corp", "is_company": True})
        processes = self._start() | self._start()
        processes.run_transition("qualify", {"company_name": "UMBRELLA sp corp"})
        self.assertEqual(processes.opportunity_id.partner_id.parent_id, existing)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=ilike", "umbrella sp corp")]), 1)

    def test_qualify_batch_creates_each_company_once(self):
        processes = self._start() | self._start() | self._start()
        count = self.env["res.partner"].search_count([("name", "=ilike", "Hooli SP")])
        processes.run_transition("qualify", {"company_name": "Hooli SP"})
        self.assertEqual(self.env["res.partner"].search_count([("name", "=ilike", "Hooli SP")]), count + 1)
        self.assertEqual(len(processes.opportunity_id.partner_id.parent_id), 1)

    def test_qualify_keeps_the_channel_of_a_non_member(self):
        """Odoo moves a converted lead to a team of its salesperson: not the
        opportunity of a process, which stays in its B2B channel."""
        admin = self.env.ref("base.user_admin")
        self.assertNotIn(admin, self.team.member_ids | self.team.user_id)
        process = self._start(values={"user_id": admin.id})
        process.run_transition("qualify", {"company_name": "Initech SP"})
        self.assertEqual(process.opportunity_id.team_id, self.team)
        self.assertEqual(process.team_id, self.team)

    def test_qualify_batch_defaults_to_each_leads_company(self):
        first = self._start(self._lead("A", partner_name="Alpha SP"))
        second = self._start(self._lead("B", partner_name="Beta SP"))
        third = self._start(
            self._lead(
                "C", partner_name=False, contact_name=False, email_from=False, partner_id=self.customer_contact.id
            )
        )
        (first | second | third).run_transition("qualify")
        self.assertEqual(first.opportunity_id.partner_id.parent_id.name, "Alpha SP")
        self.assertEqual(second.opportunity_id.partner_id.parent_id.name, "Beta SP")
        self.assertEqual(third.opportunity_id.partner_id, self.customer_contact)

    def test_qualify_with_partner(self):
        process = self._start(self._lead(contact_name=False, email_from=False))
        process.run_transition("qualify", {"partner_id": self.customer.id})
        self.assertEqual(process.opportunity_id.partner_id, self.customer)
        self.assertEqual(process.opportunity_id.name, "Website redesign")

    def test_disqualify(self):
        process = self._start()
        lead = process.lead_id
        process.run_transition("disqualify", {"reason": "No budget at all"})
        self.assertEqual(process.step_code, "disqualified_lead")
        self.assertTrue(process.is_closed)
        self.assertFalse(lead.active)
        self.assertEqual(lead.won_status, "lost")
        self.assertEqual(lead.probability, 0)
        self.assertEqual(lead.lost_reason_id, self.disqualified)
        self.assertEqual(lead.type, "lead")
        self.assertTrue(
            any("No budget at all" in message.body for message in lead.message_ids),
            "the reason is logged in the lead's chatter",
        )
        self.assertConsistent(process)

    def test_follow_up(self):
        process = self._process_at("disqualified_lead")
        lead = process.lead_id
        before = self.snapshot(lead)
        process.run_transition("follow_up", {"note": "Called again, still no budget"})
        self.assertEqual(process.step_code, "disqualified_lead")
        note = lead.message_ids[0]
        self.assertIn("Called again", note.body)
        self.assertTrue(note.subtype_id.internal)
        self.assertUnchanged(before, lead)
        self.assertEqual(process.log_ids.sorted()[0].transition_id.code, "follow_up")

    def test_reactivate_creates_a_new_lead(self):
        process = self._process_at("disqualified_lead")
        old = process.lead_id
        before = self.snapshot(old)
        process.run_transition("reactivate")
        new = process.lead_id
        self.assertNotEqual(new, old)
        self.assertEqual(process.step_code, "new_lead")
        self.assertEqual(new.sales_process_origin_id, old)
        self.assertEqual(new.name, old.name)
        self.assertEqual(new.partner_name, old.partner_name)
        self.assertTrue(new.active)
        self.assertEqual(new.type, "lead")
        self.assertFalse(new.lost_reason_id)
        self.assertEqual(new.won_status, "pending")
        # the disqualified lead stays exactly as it was
        self.assertUnchanged(before, old)
        self.assertEqual(old.sales_process_step_id.code, "disqualified_lead")
        self.assertConsistent(process)
        self.assertEqual(process.log_ids.sorted()[0].new_lead_id, new)

    def test_reactivate_returns_action_for_one(self):
        process = self._process_at("disqualified_lead")
        result = process.run_transition("reactivate")
        self.assertEqual(result["res_model"], "crm.lead")
        self.assertEqual(result["res_id"], process.lead_id.id)

    def test_develop(self):
        process = self._process_at("new_opportunity")
        opportunity = process.opportunity_id
        process.run_transition(
            "develop",
            {
                "partner_id": self.customer.id,
                "contact_id": self.customer_contact.id,
                "budget_amount": 12000,
                "probability": 40,
                "customer_need": "A faster site",
                "proposed_solution": "Rebuild on Odoo",
            },
        )
        self.assertEqual(process.step_code, "developed_opportunity")
        self.assertEqual(opportunity.partner_id, self.customer_contact)
        self.assertEqual(opportunity.budget_amount, 12000)
        self.assertEqual(opportunity.probability, 40)
        self.assertEqual(opportunity.customer_need, "A faster site")
        self.assertEqual(opportunity.proposed_solution, "Rebuild on Odoo")
        self.assertEqual(opportunity.stage_id, self.steps["developed_opportunity"].stage_id)
        self.assertConsistent(process)

    def test_develop_keeps_contact_of_customer(self):
        process = self._process_at("new_opportunity")
        opportunity = process.opportunity_id
        contact = opportunity.partner_id
        process.run_transition("develop", {"partner_id": contact.parent_id.id})
        self.assertEqual(opportunity.partner_id, contact)

    def test_optional_values_given_empty_are_written_empty(self):
        process = self._process_at("new_opportunity")
        opportunity = process.opportunity_id
        opportunity.write({"budget_amount": 9000, "customer_need": "Speed", "proposed_solution": "Fiber"})
        process.run_transition(
            "develop",
            {
                "partner_id": self.customer.id,
                "budget_amount": None,
                "customer_need": "  ",
                "proposed_solution": False,
                "probability": 30,
            },
        )
        self.assertEqual(process.step_code, "developed_opportunity")
        self.assertFalse(opportunity.budget_amount)
        self.assertFalse(opportunity.customer_need)
        self.assertFalse(opportunity.proposed_solution)
        self.assertEqual(opportunity.probability, 30)
        log = process.log_ids.sorted("id")[-1]
        self.assertIsNone(log.values["budget_amount"], "the log keeps what was given: empty")
        self.assertIn("Budget: (empty)", log.values_text)

    def test_qualify_notes_of_empty_html_keep_the_description(self):
        process = self._start(self._lead(description="<p>Needs a new website</p>"))
        process.run_transition("qualify", {"company_name": "Initech SP", "notes": "<p><br></p>"})
        self.assertIn("Needs a new website", process.opportunity_id.description)

    def test_start_with_owner_given_empty(self):
        lead = self._lead()
        process = self.Process.browse(self.Process.start_from_lead(lead.id, {"user_id": False}))
        self.assertEqual(process.step_code, "new_lead")
        self.assertFalse(lead.user_id, "the owner given empty stays empty")
        self.assertEqual(process.date_start, fields.Date.context_today(process), "the date left out: today")

    def test_close_as_won_from_new_and_developed(self):
        for code in ("new_opportunity", "developed_opportunity"):
            process = self._process_at(code)
            opportunity = process.opportunity_id
            process.run_transition("close_as_won", {"close_revenue": 9900, "close_date": "2026-03-02"})
            self.assertEqual(process.step_code, "won_opportunity")
            self.assertEqual(opportunity.won_status, "won")
            self.assertTrue(opportunity.stage_id.is_won)
            self.assertEqual(opportunity.probability, 100)
            self.assertEqual(opportunity.expected_revenue, 9900)
            self.assertEqual(str(opportunity.date_closed.date()), "2026-03-02")
            self.assertConsistent(process)

    def test_close_as_won_default_date_today(self):
        process = self._process_at("new_opportunity")
        process.run_transition("close_as_won", {"close_revenue": 0})
        self.assertEqual(process.opportunity_id.expected_revenue, 0)
        self.assertEqual(process.opportunity_id.date_closed.date(), fields.Date.today())

    def test_close_as_lost(self):
        process = self._process_at("developed_opportunity")
        opportunity = process.opportunity_id
        process.run_transition("close_as_lost", {"lost_reason_id": self.cancelled.id})
        self.assertEqual(process.step_code, "lost_opportunity")
        self.assertEqual(opportunity.won_status, "lost")
        self.assertFalse(opportunity.active)
        self.assertEqual(opportunity.lost_reason_id, self.cancelled)
        self.assertEqual(opportunity.probability, 0)
        self.assertEqual(opportunity.expected_revenue, 0)
        self.assertTrue(opportunity.date_closed)
        self.assertConsistent(process)

    def test_reopen_won_and_lost(self):
        for code in ("won_opportunity", "lost_opportunity"):
            process = self._process_at(code)
            closed = process.opportunity_id
            closed.invalidate_recordset()
            before = self.snapshot(closed)
            result = process.run_transition("reopen")
            new = process.opportunity_id
            self.assertIsInstance(result, dict)
            self.assertNotEqual(new, closed)
            self.assertEqual(process.step_code, "new_opportunity")
            self.assertEqual(new.sales_process_origin_id, closed)
            self.assertEqual(new.type, "opportunity")
            self.assertTrue(new.active)
            self.assertEqual(new.won_status, "pending")
            self.assertEqual(new.partner_id, closed.partner_id)
            # development and closing data cleared
            self.assertFalse(new.budget_amount)
            self.assertFalse(new.customer_need)
            self.assertFalse(new.proposed_solution)
            self.assertFalse(new.expected_revenue)
            self.assertFalse(new.lost_reason_id)
            self.assertFalse(new.date_closed)
            self.assertEqual(new.stage_id, self.steps["new_opportunity"].stage_id)
            # the closed opportunity stays exactly as it was
            self.assertUnchanged(before, closed)
            self.assertEqual(process.lead_id, closed, "the lead of the process is still the qualified one")
            self.assertConsistent(process)

    def test_whole_seed_workflow_and_log(self):
        process = self._start()
        process.run_transition("disqualify")
        process.run_transition("follow_up", {"note": "later"})
        process.run_transition("reactivate")
        process.run_transition("qualify", {"company_name": "Initech SP"})
        process.run_transition("develop", {"partner_id": self.customer.id, "budget_amount": 10})
        process.run_transition("close_as_won", {"close_revenue": 10})
        process.run_transition("reopen")
        process.run_transition("close_as_lost", {"lost_reason_id": self.outsold.id})
        process.run_transition("reopen")
        codes = [log.transition_id.code for log in process.log_ids.sorted("id")]
        self.assertEqual(
            codes,
            [
                "start_from_lead",
                "disqualify",
                "follow_up",
                "reactivate",
                "qualify",
                "develop",
                "close_as_won",
                "reopen",
                "close_as_lost",
                "reopen",
            ],
        )
        # four records: the disqualified lead, the reactivated one (qualified, won), two reopened opportunities
        self.assertEqual(len(process.lead_ids), 4)
        self.assertEqual(
            sorted(process.lead_ids.mapped("sales_process_step_id.code")),
            sorted(["disqualified_lead", "won_opportunity", "lost_opportunity", "new_opportunity"]),
        )
        self.assertConsistent(process)

    def test_batch_transition(self):
        processes = self.Process.browse([self._process_at("new_opportunity").id for __ in range(3)])
        processes.run_transition("close_as_won", {"close_revenue": 100})
        self.assertEqual(set(processes.mapped("step_code")), {"won_opportunity"})
        self.assertEqual(len(processes.log_ids), 3 * 3)
        for process in processes:
            self.assertConsistent(process)

    def test_available_transitions(self):
        process = self._start()
        self.assertEqual(process.available_transition_ids.mapped("code"), ["qualify", "disqualify"])
        self.assertEqual(process.lead_id.sales_process_transition_ids.mapped("code"), ["qualify", "disqualify"])
        process.run_transition("disqualify")
        self.assertEqual(process.available_transition_ids.mapped("code"), ["follow_up", "reactivate"])
