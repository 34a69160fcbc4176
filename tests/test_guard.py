# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..models.crm_sales_process import engine_writes
from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestGuard(SalesProcessCase):
    """Every write path on a record in a process either runs the matching
    transition or is refused with the button to use; process and record
    never disagree."""

    # -- read-only steps ---------------------------------------------------

    def test_closed_records_cannot_be_written_or_deleted(self):
        for code in ("disqualified_lead", "won_opportunity", "lost_opportunity"):
            with self.subTest(step=code):
                process = self._process_at(code)
                record = process.current_lead_id.with_user(self.salesman)
                before = self.snapshot(record)
                for vals in (
                    {"name": "Changed"},
                    {"expected_revenue": 1},
                    {"description": "x"},
                    {"tag_ids": [Command.create({"name": "SP tag"})]},
                ):
                    with self.assertRaises(UserError) as caught:
                        record.write(vals)
                    self.assertIn(process.step_id.name, str(caught.exception))
                with self.assertRaises(UserError):
                    record.unlink()
                with self.assertRaises(UserError):
                    record.sudo().unlink()
                self.assertUnchanged(before, record)

    def test_refusal_names_the_button(self):
        process = self._process_at("won_opportunity")
        with self.assertRaises(UserError) as caught:
            process.opportunity_id.write({"name": "x"})
        self.assertIn('"Reopen"', str(caught.exception))

    def test_left_behind_records_stay_frozen(self):
        process = self._process_at("disqualified_lead")
        old = process.lead_id
        process.run_transition("reactivate")
        with self.assertRaises(UserError) as caught:
            old.write({"name": "Changed"})
        self.assertIn("moved on", str(caught.exception).replace("now follows", "moved on"))
        # the new lead is editable
        process.lead_id.write({"name": "Changed"})
        self.assertEqual(process.lead_id.name, "Changed")

    def test_contact_sync_leaves_closed_records_alone(self):
        """Odoo copies a contact's new email and phone onto its leads: not
        onto a deal closed in a process."""
        contact = self.env["res.partner"].create({"name": "Shared SP contact", "parent_id": self.customer.id})
        won = self._process_at("won_opportunity")
        open_one = self._process_at("new_opportunity")
        with engine_writes():  # both deals of that contact, as a transition would set them
            (won.opportunity_id | open_one.opportunity_id).write(
                {"partner_id": contact.id, "email_from": False, "phone": False}
            )
        before = self.snapshot(won.opportunity_id)
        contact.write({"email": "shared@example.com", "phone": "+32 470 00 00 00"})
        self.assertEqual(open_one.opportunity_id.email_from, "shared@example.com")
        self.assertUnchanged(before, won.opportunity_id)

    def test_reopen_does_not_change_other_closed_deals(self):
        contact = self.env["res.partner"].create({"name": "Shared SP contact 2", "parent_id": self.customer.id})
        lost = self._process_at("new_opportunity")
        won = self._process_at("new_opportunity")
        for process, email in ((lost, "p1@example.com"), (won, "p2@example.com")):
            process.opportunity_id.email_from = email
            process.run_transition("develop", {"partner_id": self.customer.id, "contact_id": contact.id})
        won.run_transition("close_as_won", {"close_revenue": 1})
        lost.run_transition("close_as_lost", {"lost_reason_id": self.outsold.id})
        before = self.snapshot(won.opportunity_id)
        lost.run_transition("reopen")
        self.assertUnchanged(before, won.opportunity_id)

    def test_odoo_can_still_maintain_closed_records(self):
        process = self._process_at("won_opportunity")
        process.opportunity_id.write({"automated_probability": 42})
        process.opportunity_id.message_post(body="a comment on a won deal")

    def test_open_record_is_editable(self):
        process = self._process_at("new_opportunity")
        process.opportunity_id.with_user(self.salesman).write(
            {"name": "Renamed", "expected_revenue": 123, "probability": 30}
        )
        self.assertEqual(process.opportunity_id.expected_revenue, 123)

    def test_no_record_of_an_open_process_can_be_deleted(self):
        process = self._start()
        with self.assertRaises(UserError):
            process.lead_id.unlink()
        self.assertTrue(process.lead_id.exists())

    # -- Odoo's own buttons ------------------------------------------------

    def test_mark_won_runs_close_as_won(self):
        process = self._process_at("developed_opportunity")
        opportunity = process.opportunity_id
        opportunity.expected_revenue = 4321
        opportunity.with_user(self.salesman).action_set_won_rainbowman()
        self.assertEqual(process.step_code, "won_opportunity")
        self.assertEqual(opportunity.expected_revenue, 4321)
        self.assertEqual(process.log_ids.sorted()[0].transition_id.code, "close_as_won")
        self.assertConsistent(process)

    def test_mark_won_on_several_runs_close_as_won_in_batches(self):
        """Odoo's Won on a selection: each record keeps its own revenue, and
        the records whose values agree are closed in one transition call."""
        processes = self.Process.union(*(self._process_at("developed_opportunity") for __ in range(3)))
        opportunities = processes.opportunity_id
        for opportunity, revenue in zip(opportunities, (1000, 1000, 2500), strict=False):
            opportunity.expected_revenue = revenue
        Process = type(self.env["crm.sales.process"])
        with patch.object(Process, "run_transition", autospec=True, side_effect=Process.run_transition) as run:
            opportunities.with_user(self.salesman).action_set_won()
        self.assertEqual(sorted(len(call.args[0]) for call in run.call_args_list), [1, 2])
        self.assertEqual(set(processes.mapped("step_code")), {"won_opportunity"})
        self.assertEqual(opportunities.mapped("expected_revenue"), [1000, 1000, 2500])
        for process in processes:
            self.assertConsistent(process)

    def test_mark_won_on_a_lead_is_refused(self):
        process = self._start()
        with self.assertRaises(UserError) as caught:
            process.lead_id.action_set_won()
        self.assertIn("Qualify", str(caught.exception))
        self.assertEqual(process.step_code, "new_lead")

    def test_lost_dialog_runs_close_as_lost(self):
        process = self._process_at("new_opportunity")
        opportunity = process.opportunity_id
        wizard = (
            self.env["crm.lead.lost"]
            .with_user(self.salesman)
            .create(
                {
                    "lead_ids": [Command.set(opportunity.ids)],
                    "lost_reason_id": self.outsold.id,
                    "lost_feedback": "<p>They went with Hooli</p>",
                }
            )
        )
        wizard.action_lost_reason_apply()
        self.assertEqual(process.step_code, "lost_opportunity")
        self.assertEqual(opportunity.lost_reason_id, self.outsold)
        self.assertConsistent(process)

    def test_lost_without_reason_is_refused_with_the_button(self):
        process = self._process_at("new_opportunity")
        with self.assertRaises(UserError) as caught:
            process.opportunity_id.action_set_lost()
        self.assertIn('"Close as Lost"', str(caught.exception))
        self.assertEqual(process.step_code, "new_opportunity")

    def test_lost_on_a_lead_disqualifies_it(self):
        process = self._start()
        process.lead_id.action_set_lost(lost_reason_id=self.outsold.id)
        self.assertEqual(process.step_code, "disqualified_lead")
        self.assertEqual(process.lead_id.lost_reason_id, self.disqualified)

    def test_restore_is_refused(self):
        for code, button in (("lost_opportunity", "Reopen"), ("disqualified_lead", "Reactivate")):
            with self.subTest(step=code):
                process = self._process_at(code)
                record = process.current_lead_id
                for method in ("action_restore", "action_unarchive"):
                    with self.assertRaises(UserError) as caught:
                        getattr(record, method)()
                    self.assertIn(button, str(caught.exception))
                self.assertFalse(record.active)

    def test_archive_is_refused(self):
        process = self._start()
        with self.assertRaises(UserError) as caught:
            process.lead_id.action_archive()
        self.assertIn("Disqualify", str(caught.exception))
        self.assertTrue(process.lead_id.active)

    def test_convert_to_opportunity_is_refused(self):
        process = self._start()
        lead = process.lead_id
        wizard = Form(
            self.env["crm.lead2opportunity.partner"].with_context(
                active_model="crm.lead", active_id=lead.id, active_ids=lead.ids
            )
        ).save()
        with self.assertRaises(UserError) as caught:
            wizard.action_apply()
        self.assertIn('"Qualify"', str(caught.exception))
        with self.assertRaises(UserError):
            lead.convert_opportunity(self.customer)
        lead.invalidate_recordset()
        self.assertEqual(lead.type, "lead")

    def test_mass_convert_is_refused(self):
        process = self._start()
        wizard = (
            self.env["crm.lead2opportunity.partner.mass"]
            .with_context(active_model="crm.lead", active_ids=process.lead_id.ids)
            .create({"deduplicate": False})
        )
        with self.assertRaises(UserError):
            wizard.action_mass_convert()

    # -- stage drags, list edits, imports, RPC-style writes ---------------

    def test_drag_to_the_stage_of_the_next_step_runs_the_transition(self):
        process = self._process_at("new_opportunity")
        opportunity = process.opportunity_id
        opportunity.partner_id = self.customer_contact
        developed_stage = self.steps["developed_opportunity"].stage_id
        opportunity.with_user(self.salesman).write({"stage_id": developed_stage.id})
        self.assertEqual(process.step_code, "developed_opportunity")
        self.assertEqual(opportunity.stage_id, developed_stage)
        self.assertEqual(process.log_ids.sorted()[0].transition_id.code, "develop")

    def test_drag_without_the_values_is_refused_with_the_button(self):
        process = self._process_at("new_opportunity")
        process.opportunity_id.partner_id = False
        with self.assertRaises(UserError) as caught:
            process.opportunity_id.write({"stage_id": self.steps["developed_opportunity"].stage_id.id})
        self.assertIn('"Develop"', str(caught.exception))
        self.assertEqual(process.step_code, "new_opportunity")

    def test_drag_to_won_stage_runs_close_as_won(self):
        process = self._process_at("developed_opportunity")
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        process.opportunity_id.write({"stage_id": won_stage.id})
        self.assertEqual(process.step_code, "won_opportunity")
        self.assertConsistent(process)

    def test_drag_backwards_is_refused(self):
        process = self._process_at("developed_opportunity")
        with self.assertRaises(UserError) as caught:
            process.opportunity_id.write({"stage_id": self.steps["new_opportunity"].stage_id.id})
        self.assertIn("no transition leads", str(caught.exception))
        self.assertEqual(process.step_code, "developed_opportunity")

    def test_drag_to_an_unlinked_stage_stays_in_step(self):
        process = self._process_at("new_opportunity")
        free_stage = self.env["crm.stage"].create({"name": "SP Free Stage", "sequence": 2})
        process.opportunity_id.write({"stage_id": free_stage.id})
        self.assertEqual(process.opportunity_id.stage_id, free_stage)
        self.assertEqual(process.step_code, "new_opportunity")

    def test_drag_of_a_closed_record_is_refused(self):
        process = self._process_at("won_opportunity")
        with self.assertRaises(UserError):
            process.opportunity_id.write({"stage_id": self.steps["new_opportunity"].stage_id.id})

    def test_list_multi_edit_mixed_records(self):
        free = self._lead("Not in a process", type="opportunity")
        process = self._process_at("won_opportunity")
        with self.assertRaises(UserError):
            (free | process.opportunity_id).write({"priority": "2"})
        self.assertEqual(free.priority, "0")
        open_process = self._process_at("new_opportunity")
        (free | open_process.opportunity_id).write({"priority": "2"})
        self.assertEqual(open_process.opportunity_id.priority, "2")

    def test_process_fields_are_engine_only(self):
        process = self._start()
        other = self._lead("Other")
        for vals in (
            {"sales_process_id": False},
            {"sales_process_step_id": self.steps["won_opportunity"].id},
            {"sales_process_origin_id": other.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                process.lead_id.write(vals)
        with self.assertRaises(UserError):
            self.env["crm.lead"].create({"name": "Forged", "sales_process_id": process.id})
        with self.assertRaises(UserError):
            self.env["crm.lead"].create({"name": "Forged", "sales_process_step_id": self.steps["new_lead"].id})

    def test_import_cannot_bypass(self):
        process = self._process_at("won_opportunity")
        result = self.env["crm.lead"].load([".id", "name"], [[str(process.opportunity_id.id), "Imported name"]])
        self.assertTrue(result["messages"], "the import reports the refusal")
        self.assertIn("Won Opportunity", result["messages"][0]["message"])
        self.assertNotEqual(process.opportunity_id.name, "Imported name")

    def test_team_must_stay_b2b(self):
        process = self._start()
        with self.assertRaises(UserError):
            process.lead_id.write({"team_id": self.team_b2c.id})
        with self.assertRaises(UserError):
            process.write({"team_id": self.team_b2c.id})
        other_b2b = self.team.copy({"name": "SP B2B 2"})
        process.write({"team_id": other_b2b.id})
        self.assertEqual(process.lead_id.team_id, other_b2b)

    def test_reassigning_keeps_the_channel(self):
        process = self._process_at("new_opportunity")
        admin = self.env.ref("base.user_admin")
        process.opportunity_id.write({"user_id": admin.id})
        self.assertEqual(process.opportunity_id.team_id, self.team)
        self.assertEqual(process.user_id, admin)

    def test_owner_follows_the_record(self):
        process = self._start()
        process.lead_id.user_id = self.salesman_2
        self.assertEqual(process.user_id, self.salesman_2)
        process.user_id = self.salesman
        self.assertEqual(process.lead_id.user_id, self.salesman)

    # -- the process record itself ------------------------------------------

    def test_process_cannot_be_forged(self):
        lead = self._lead()
        with self.assertRaises(UserError):
            self.Process.create(
                {
                    "name": "Forged",
                    "workflow_id": self.workflow.id,
                    "lead_id": lead.id,
                    "step_id": self.steps["won_opportunity"].id,
                }
            )
        process = self._start()
        for vals in (
            {"lead_id": lead.id},
            {"workflow_id": self.workflow.copy().id},
            # with a step: refused before its transition runs
            {"step_id": self.steps["new_opportunity"].id, "lead_id": lead.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                process.write(vals)
        self.assertEqual((process.step_code, process.lead_id.type), ("new_lead", "lead"))
        with self.assertRaises(UserError):
            process.copy()

    def test_step_write_runs_the_transition(self):
        process = self._start(user=self.salesman)
        # qualify needs a customer: the lead's company name is used
        process.with_user(self.salesman).write({"step_id": self.steps["new_opportunity"].id})
        self.assertEqual(process.step_code, "new_opportunity")
        self.assertEqual(process.opportunity_id.partner_id.parent_id.name, "Initech SP")
        with self.assertRaises(UserError) as caught:
            process.write({"step_id": self.steps["new_lead"].id})
        self.assertIn("No transition leads", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            process.write({"step_id": self.steps["lost_opportunity"].id})
        self.assertIn('"Close as Lost"', str(caught.exception))

    def test_deleting_a_process_frees_its_records(self):
        process = self._process_at("won_opportunity")
        record = process.opportunity_id
        process.with_user(self.manager).unlink()
        self.assertFalse(record.sales_process_id)
        self.assertFalse(record.sales_process_step_id)
        record.write({"name": "Editable again"})
