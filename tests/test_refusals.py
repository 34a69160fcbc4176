# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import SalesProcessCase

ALLOWED = {
    "new_lead": {"qualify", "disqualify"},
    "disqualified_lead": {"follow_up", "reactivate"},
    "new_opportunity": {"develop", "close_as_won", "close_as_lost"},
    "developed_opportunity": {"close_as_won", "close_as_lost"},
    "won_opportunity": {"reopen"},
    "lost_opportunity": {"reopen"},
}
VALID_VALUES = {
    "qualify": {"company_name": "Initech SP"},
    "disqualify": {},
    "follow_up": {"note": "a note"},
    "reactivate": {},
    "develop": {},  # partner_id set per test
    "close_as_won": {"close_revenue": 1},
    "close_as_lost": {},  # lost_reason_id set per test
    "reopen": {},
}


@tagged("post_install", "-at_install")
class TestRefusals(SalesProcessCase):
    """Every refusal is a clear error naming the transition, the step and what
    is wrong, and nothing is changed."""

    def _values(self, code):
        values = dict(VALID_VALUES[code])
        if code == "develop":
            values["partner_id"] = self.customer.id
        if code == "close_as_lost":
            values["lost_reason_id"] = self.outsold.id
        return values

    def _counts(self):
        self.env.cr.precommit.run()  # pending tracking messages of earlier writes
        Lead = self.env["crm.lead"].with_context(active_test=False)
        return (
            Lead.search_count([]),
            self.env["res.partner"].with_context(active_test=False).search_count([]),
            self.env["crm.sales.process.log"].search_count([]),
            self.env["mail.message"].search_count([]),
        )

    def assertRefused(self, process, code, values, *fragments, error=UserError):
        records = process.lead_ids.with_context(active_test=False)
        before = self.snapshot(process, records)
        counts = self._counts()
        with self.assertRaises(error) as caught:
            process.run_transition(code, values)
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertUnchanged(before, process, records)
        self.assertEqual(self._counts(), counts, "no record was created")
        return message

    def test_every_disallowed_step_transition_pair(self):
        refused = 0
        for step_code, allowed in ALLOWED.items():
            process = self._process_at(step_code)
            step_name = process.step_id.name
            for code in VALID_VALUES:
                if code in allowed:
                    continue
                with self.subTest(step=step_code, transition=code):
                    name = self.workflow.transition_ids.filtered(lambda t, c=code: t.code == c).name
                    message = self.assertRefused(
                        process, code, self._values(code), f'"{name}"', f'"{step_name}"', "not available"
                    )
                    # the refusal says what is possible instead
                    for transition in process.available_transition_ids:
                        self.assertIn(transition.name, message)
                    refused += 1
        self.assertEqual(refused, 6 * 8 - 11)

    def test_unknown_transition_and_start_codes(self):
        process = self._start()
        self.assertRefused(process, "fly_to_the_moon", {}, "fly_to_the_moon")
        self.assertRefused(process, "start_from_lead", {}, "start_from_lead")

    def test_missing_required_values(self):
        cases = [
            ("new_lead", "qualify", {}, "Customer"),
            ("new_lead", "qualify", {"opportunity_name": "Deal", "company_name": "  "}, "Customer"),
            ("disqualified_lead", "follow_up", {}, "Note"),
            ("disqualified_lead", "follow_up", {"note": ""}, "Note"),
            ("new_opportunity", "develop", {"budget_amount": 5}, "Customer"),
            ("new_opportunity", "close_as_won", {}, "Close Revenue"),
            ("new_opportunity", "close_as_lost", {}, "Lost Reason"),
        ]
        for step, code, values, label in cases:
            with self.subTest(transition=code, values=values):
                process = self._process_at(step)
                if code == "qualify":
                    process.current_lead_id.partner_name = False  # no company to default to
                self.assertRefused(process, code, values, "missing", label, process.step_id.name)

    def test_values_given_empty_are_not_replaced_by_defaults(self):
        """A key given as False, None, "" or blank text means empty: refused
        where the transition needs it, though a default exists for the key."""
        cases = [
            ("new_lead", "qualify", {"opportunity_name": "  ", "company_name": "Initech SP"}, "Opportunity Name"),
            ("new_lead", "qualify", {"opportunity_name": None, "company_name": "Initech SP"}, "Opportunity Name"),
            # the lead has a company name to default to: given empty, it is not used
            ("new_lead", "qualify", {"partner_id": False, "company_name": False}, "Customer"),
            ("new_lead", "qualify", {"company_name": ""}, "Customer"),
            ("new_lead", "qualify", {"partner_id": None}, "Customer"),
            ("disqualified_lead", "follow_up", {"note": None}, "Note"),
            ("disqualified_lead", "follow_up", {"note": " \n "}, "Note"),
            ("new_opportunity", "close_as_won", {"close_revenue": 5, "close_date": False}, "Close Date"),
            ("new_opportunity", "close_as_won", {"close_revenue": None}, "Close Revenue"),
            ("new_opportunity", "close_as_lost", {"lost_reason_id": False}, "Lost Reason"),
            ("developed_opportunity", "close_as_lost", {"close_date": ""}, "Close Date"),
            ("new_opportunity", "develop", {"partner_id": False}, "Customer"),
        ]
        for step, code, values, label in cases:
            with self.subTest(transition=code, values=values):
                process = self._process_at(step)
                if code == "close_as_lost" and "lost_reason_id" not in values:
                    values = dict(values, lost_reason_id=self.outsold.id)
                name = process.step_id.name
                self.assertRefused(process, code, values, "missing", label, f'"{name}"')

    def test_start_values_given_empty(self):
        lead = self._lead()
        for values, fragment in (
            ({"date_start": False}, "missing Start Date"),
            ({"date_start": ""}, "missing Start Date"),
            ({"team_id": None}, "B2B sales channel is required"),
        ):
            with self.subTest(values=values):
                with self.assertRaises(UserError) as caught:
                    self.Process.start_from_lead(lead.id, values)
                self.assertIn(fragment, str(caught.exception))
                self.assertFalse(lead.sales_process_id)

    def test_negative_amounts(self):
        process = self._process_at("new_opportunity")
        self.assertRefused(process, "close_as_won", {"close_revenue": -1}, "Close Revenue", "negative")
        self.assertRefused(
            process, "develop", {"partner_id": self.customer.id, "budget_amount": -0.01}, "Budget", "negative"
        )

    def test_probability_out_of_range(self):
        process = self._process_at("new_opportunity")
        for probability in (-5, 100.5, 1000):
            with self.subTest(probability=probability):
                self.assertRefused(
                    process, "develop", {"partner_id": self.customer.id, "probability": probability}, "Probability"
                )

    def test_bad_types(self):
        process = self._process_at("new_opportunity")
        self.assertRefused(process, "close_as_won", {"close_revenue": "1000"}, "must be a number")
        self.assertRefused(process, "close_as_won", {"close_revenue": True}, "must be a number")
        self.assertRefused(process, "close_as_won", {"close_revenue": 5, "close_date": "31/12/2026"}, "must be a date")
        self.assertRefused(process, "develop", {"partner_id": "Globex"}, "must be a record id")
        self.assertRefused(process, "close_as_won", {"close_revenue": 5, "bonus": 1}, "unknown values bonus")
        self.assertRefused(process, "close_as_won", [("close_revenue", 5)], "must be a dictionary")

    def test_unknown_lost_reason(self):
        process = self._process_at("developed_opportunity")
        self.assertRefused(process, "close_as_lost", {"lost_reason_id": 999999}, "Lost Reason", "999999")
        archived = self.env["crm.lost.reason"].create({"name": "Gone SP", "active": False})
        self.assertRefused(process, "close_as_lost", {"lost_reason_id": archived.id}, "archived")

    def test_qualify_with_a_person_as_customer(self):
        process = self._start()
        self.assertRefused(process, "qualify", {"partner_id": self.customer_contact.id}, "must be a company")

    def test_develop_with_contact_of_another_customer(self):
        process = self._process_at("new_opportunity")
        stranger = self.env["res.partner"].create({"name": "Stranger SP"})
        self.assertRefused(
            process, "develop", {"partner_id": self.customer.id, "contact_id": stranger.id}, "does not belong"
        )

    def test_b2c_channel(self):
        lead = self._lead(team_id=self.team_b2c.id)
        counts = self._counts()
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(lead.id)
        self.assertIn("B2C Channel", str(caught.exception))
        self.assertIn("not a B2B channel", str(caught.exception))
        self.assertFalse(lead.sales_process_id)
        self.assertEqual(self._counts(), counts)
        # asking for a B2C channel explicitly is refused the same way
        lead_b2b = self._lead()
        with self.assertRaises(UserError):
            self.Process.start_from_lead(lead_b2b.id, {"team_id": self.team_b2c.id})
        self.assertFalse(self.Process.search([("lead_id", "=", lead_b2b.id)]))
        # no team at all
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(self._lead(team_id=False, user_id=False).id)
        self.assertIn("B2B sales channel is required", str(caught.exception))

    def test_b2b_channel_stays_b2b_while_processes_run(self):
        open_process = self._start()
        self._process_at("won_opportunity")  # closed: does not hold the channel
        idle = self.env["crm.team"].create({"name": "SP Idle Channel", "channel_type": "b2b"})
        Team = self.env["crm.team"].with_user(self.manager)
        with self.assertRaises(ValidationError) as caught:
            Team.browse((idle | self.team).ids).write({"channel_type": "b2c"})
        message = str(caught.exception)
        self.assertIn('"SP B2B Channel" cannot become B2C: 1 open Sales Process', message)
        self.assertIn("another B2B channel", message)
        self.assertEqual((idle | self.team).mapped("channel_type"), ["b2b", "b2b"], "nothing changed")
        idle.with_user(self.manager).channel_type = "b2c"  # runs no process
        open_process.run_transition("disqualify")
        Team.browse(self.team.id).channel_type = "b2c"
        self.assertEqual(self.team.channel_type, "b2c", "once its processes are closed")

    def test_second_process_on_the_same_record(self):
        process = self._start()
        counts = self._counts()
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(process.lead_id.id)
        self.assertIn("already follows", str(caught.exception))
        self.assertEqual(self._counts(), counts)
        opportunity = self._process_at("new_opportunity").opportunity_id
        with self.assertRaises(UserError):
            self.Process.start_from_opportunity(opportunity.id)

    def test_start_on_wrong_type_or_closed_or_missing_record(self):
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(self._lead(type="opportunity").id)
        self.assertIn("already an opportunity", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_opportunity(self._lead().id)
        self.assertIn("not an opportunity", str(caught.exception))
        lost = self._lead(type="opportunity")
        lost.action_set_lost()
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_opportunity(lost.id)
        self.assertIn("closed", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            self.Process.start_from_lead(99999999)
        self.assertIn("99999999", str(caught.exception))
        for bad in ("12", None, True, [], [1, "x"]):
            with self.subTest(arg=bad), self.assertRaises(UserError):
                self.Process.start_from_lead(bad)

    def test_bad_start_values(self):
        lead = self._lead()
        for values, fragment in (
            ({"team_id": 0.5}, "record id"),
            ({"user_id": 99999999}, "no record"),
            ({"date_start": "tomorrow"}, "must be a date"),
            ({"colour": "red"}, "unknown values colour"),
            ("not a dict", "dictionary"),
        ):
            with self.subTest(values=values):
                with self.assertRaises(UserError) as caught:
                    self.Process.start_from_lead(lead.id, values)
                self.assertIn(fragment, str(caught.exception))
                self.assertFalse(lead.sales_process_id)

    def test_batch_with_one_record_not_allowed(self):
        good_1 = self._process_at("new_opportunity")
        good_2 = self._process_at("developed_opportunity")
        bad = self._process_at("won_opportunity")
        batch = good_1 | good_2 | bad
        message = self.assertRefused(
            batch, "close_as_won", {"close_revenue": 5}, "Nothing was changed", "1 of 3", bad.name
        )
        self.assertIn("Won Opportunity", message)
        self.assertEqual(good_1.step_code, "new_opportunity")
        self.assertEqual(good_2.step_code, "developed_opportunity")

    def test_batch_refusal_lists_ten_processes_then_how_many_more(self):
        leads = self.env["crm.lead"].create(
            [{"name": f"SP Many {i}", "type": "lead", "team_id": self.team.id} for i in range(12)]
        )
        batch = self.Process.browse(self.Process.start_from_lead(leads.ids))
        message = self.assertRefused(batch, "close_as_won", {"close_revenue": 5}, "12 of 12", "... and 2 more.")
        self.assertEqual(sum(f'"{name}"' in message for name in leads.mapped("name")), 10)

    def test_empty_batch(self):
        with self.assertRaises(UserError):
            self.Process.run_transition("qualify", {"company_name": "x"})

    def test_process_of_someone_else(self):
        process = self._start(user=self.salesman_2)
        with self.assertRaises(AccessError):
            process.with_user(self.salesman).run_transition("disqualify")
        self.assertEqual(process.step_code, "new_lead")

    def test_qualify_with_a_contact_of_another_company(self):
        lead = self._lead(partner_id=self.customer_contact.id)
        process = self._start(lead)
        self.assertRefused(process, "qualify", {"company_name": "Initech SP"}, "belongs to")
