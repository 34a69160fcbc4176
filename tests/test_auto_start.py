# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""A B2B channel that starts a Sales Process on every new lead (or
opportunity): every way a record comes in, in the same transaction, in
batch; the list action that starts the selected records; the owner rule."""

from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import Form, tagged

from .common import SalesProcessCase

EMAIL = """From: Peter Gibbons <peter.gibbons@initech.example.com>
To: sp-b2b-sales@sp-auto.example.com
Subject: New office furniture for 40 people
Message-ID: <sp-auto-start-1@initech.example.com>
Date: Tue, 03 Jun 2025 09:12:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Hello, we move to a new floor in September and need desks and chairs for 40 people.
Could you send us an offer?

Peter
"""


@tagged("post_install", "-at_install")
class TestAutoStart(SalesProcessCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.write({"sales_process_auto_start_lead": True, "sales_process_auto_start_opportunity": True})
        cls.team_opportunities = cls.env["crm.team"].create(
            {
                "name": "SP Opportunities Only",
                "channel_type": "b2b",
                "sales_process_auto_start_opportunity": True,
                "member_ids": [(6, 0, cls.salesman.ids)],
            }
        )

    @contextmanager
    def count_starts(self):
        """The sizes of the batches started in the block."""
        sizes = []
        Process = type(self.Process)
        start = Process._start

        def counting(model, record_ids, record_type, values):
            sizes.append(len(record_ids) if isinstance(record_ids, list) else 1)
            return start(model, record_ids, record_type, values)

        with patch.object(Process, "_start", counting):
            yield sizes

    def assertStarted(self, lead, step_code="new_lead", user=None):
        process = lead.sales_process_id
        self.assertTrue(process, f"{lead.name}: a process started")
        self.assertEqual(process.step_code, step_code)
        self.assertEqual(process.log_ids.transition_id.code, f"start_from_{lead.type}")
        self.assertConsistent(process)
        if user is not None:
            self.assertEqual(lead.user_id, user)
            self.assertEqual(process.user_id, user)
        return process

    # -- every way in ------------------------------------------------------

    def test_form(self):
        Lead = self.env["crm.lead"].with_user(self.salesman).with_context(default_type="lead")
        form = Form(Lead, view="crm.crm_lead_view_form")
        form.name = "SP Auto Form Lead"
        form.team_id = self.team
        lead = form.save()
        self.assertStarted(lead, user=self.salesman)

    def test_kanban_quick_create(self):
        """The pipeline's quick create: name_create in the channel's column."""
        Lead = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .with_context(default_team_id=self.team.id, default_type="opportunity")
        )
        lead = Lead.browse(Lead.name_create("SP Auto Quick Deal")[0])
        self.assertStarted(lead, "new_opportunity", user=self.salesman)

    def test_rpc_create_with_the_fewest_fields(self):
        """create over RPC with a name and a channel only: what a client
        sends; Odoo's defaults fill the rest (type, salesperson)."""
        lead = self.env["crm.lead"].with_user(self.salesman).create({"name": "SP Auto RPC", "team_id": self.team.id})
        self.assertStarted(lead, "new_opportunity" if lead.type == "opportunity" else "new_lead", user=self.salesman)

    def test_import_through_base_import(self):
        csv = "name,type,team_id/.id,email_from\n" + "".join(
            f"SP Auto Import {i},lead,{self.team.id},buyer{i}@import.example.com\n" for i in range(30)
        )
        importer = (
            self.env["base_import.import"]
            .with_user(self.salesman)
            .create({"res_model": "crm.lead", "file": csv.encode(), "file_type": "text/csv", "file_name": "leads.csv"})
        )
        with self.count_starts() as starts:
            result = importer.execute_import(
                ["name", "type", "team_id/.id", "email_from"],
                ["name", "type", "team_id/.id", "email_from"],
                {"quoting": '"', "separator": ",", "has_headers": True},
            )
        self.assertFalse(result["messages"])
        leads = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(len(leads), 30)
        for lead in leads:
            self.assertStarted(lead, user=self.salesman)
        self.assertEqual(starts, [30], "the 30 imported leads start in one batch")

    def test_channel_email_alias(self):
        """A real email to the channel's alias, through Odoo's mail gateway
        (message_process): the lead it creates starts its process; Odoo then
        gives it to the team leader, who owns the process."""
        alias_domain = self.env["mail.alias.domain"].create({"name": "sp-auto.example.com"})
        self.env.company.alias_domain_id = alias_domain
        self.team.write({"alias_name": "sp-b2b-sales", "use_leads": True, "user_id": self.manager.id})
        self.team.alias_id.alias_domain_id = alias_domain
        thread_id = self.env["mail.thread"].message_process(None, EMAIL)
        lead = self.env["crm.lead"].browse(thread_id)
        self.assertEqual(lead.name, "New office furniture for 40 people")
        self.assertEqual(lead.team_id, self.team)
        process = self.assertStarted(lead, f"new_{lead.type}")
        self.assertEqual(lead.user_id, self.manager, "Odoo's gateway gives a lead without salesperson to the leader")
        self.assertEqual(process.user_id, self.manager, "the owner is the record's salesperson")
        self.assertEqual(process.log_ids.values.get("user_id"), None, "the start did not pick the gateway's user")

    def test_moved_in_from_a_b2c_channel(self):
        lead = self._lead("SP Auto Moved", team_id=self.team_b2c.id)
        self.assertFalse(lead.sales_process_id, "B2C channels never start a process")
        lead.with_user(self.salesman).write({"team_id": self.team.id})
        self.assertStarted(lead, user=self.salesman)

    def test_converted_by_odoo_into_an_opportunity_of_a_channel_that_starts_opportunities(self):
        lead = self._lead("SP Auto Convert", team_id=self.team_opportunities.id)
        self.assertFalse(lead.sales_process_id, "the channel starts opportunities only")
        wizard = (
            self.env["crm.lead2opportunity.partner"]
            .with_user(self.salesman)
            .with_context(active_model="crm.lead", active_id=lead.id, active_ids=lead.ids)
            .create({"name": "convert", "action": "create"})
        )
        wizard.action_apply()
        self.assertEqual(lead.type, "opportunity")
        self.assertStarted(lead, "new_opportunity")

    def test_channel_without_auto_start_and_closed_records(self):
        other = self.env["crm.team"].create({"name": "SP Manual B2B", "channel_type": "b2b"})
        manual = self._lead("SP Manual", team_id=other.id)
        lost = self._lead("SP Imported Lost", active=False)
        self.assertFalse(manual.sales_process_id)
        self.assertFalse(lost.sales_process_id, "a closed record is not a new deal")
        self.assertFalse(lost.message_ids.filtered(lambda m: "No Sales Process" in (m.body or "")))

    def test_a_refused_start_keeps_the_lead_and_says_why(self):
        """The start needs a field the lead lacks: the lead is created all the
        same (an email is never lost to a refused start) and its chatter says
        why no process started; the others of the batch start."""
        start = self.workflow.transition_ids.filtered(lambda t: t.code == "start_from_lead")
        start.required_field_ids = self.env["ir.model.fields"]._get("crm.lead", "phone")
        leads = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .create(
                [
                    {"name": "SP Auto No Phone", "team_id": self.team.id, "type": "lead"},
                    {"name": "SP Auto Phone", "team_id": self.team.id, "type": "lead", "phone": "+32 2 555 12 12"},
                ]
            )
        )
        self.assertFalse(leads[0].sales_process_id)
        note = leads[0].message_ids.filtered(lambda m: "No Sales Process was started" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("fill in Phone", note.body)
        self.assertStarted(leads[1])

    def test_switching_auto_start_on_takes_effect_at_once(self):
        """The channels that start processes are cached: changing a channel
        clears it."""
        self.team.sales_process_auto_start_lead = False
        self.assertFalse(self._lead("SP Off").sales_process_id)
        self.team.sales_process_auto_start_lead = True
        self.assertStarted(self._lead("SP On"))

    def test_batch_of_200_starts_in_one_batch(self):
        with self.count_starts() as starts:
            leads = (
                self.env["crm.lead"]
                .with_user(self.manager)
                .create([{"name": f"SP Auto Batch {i}", "team_id": self.team.id, "type": "lead"} for i in range(200)])
            )
        self.assertEqual(starts, [200], "one start for the batch")
        self.assertEqual(len(leads.sales_process_id), 200)

    def test_an_unassigned_record_stays_unassigned(self):
        """A process that starts by itself does not hand an unassigned record
        to whoever created it (as Odoo's gateway, for its assignment)."""
        lead = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .create({"name": "SP Auto Unassigned", "team_id": self.team.id, "type": "lead", "user_id": False})
        )
        process = self.assertStarted(lead)
        self.assertFalse(lead.user_id)
        self.assertFalse(process.user_id)

    # -- the list action ----------------------------------------------------

    def test_list_action_starts_what_can_start_and_says_what_was_skipped(self):
        self.team.write({"sales_process_auto_start_lead": False, "sales_process_auto_start_opportunity": False})
        ready = self._lead("SP List Ready") | self._lead("SP List Deal", type="opportunity")
        following = self._lead("SP List Following")
        self._start(following)
        b2c = self._lead("SP List B2C", team_id=self.team_b2c.id)
        closed = self._lead("SP List Closed")
        closed.action_set_lost()
        selection = ready | following | b2c | closed
        action = selection.with_user(self.salesman).action_start_sales_processes()
        self.assertEqual(ready.sales_process_id.mapped("step_code"), ["new_lead", "new_opportunity"])
        for record in following | b2c | closed:
            self.assertEqual(len(record.sales_process_id), record == following)
        message = action["params"]["message"]
        self.assertIn("2 Sales Processes started.", message)
        self.assertIn("3 skipped:", message)
        self.assertIn('"SP List Following" already follows the Sales Process', message)
        self.assertIn('"SP List B2C": the sales channel "SP B2C Channel" is not a B2B channel', message)
        self.assertIn('"SP List Closed" is closed', message)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertTrue(action["params"]["sticky"])

    def test_list_action_is_in_the_actions_menu(self):
        action = self.env.ref("crm_sales_process.crm_lead_action_start_sales_processes")
        self.assertEqual(action.binding_model_id.model, "crm.lead")
        self.assertIn("list", action.binding_view_types)

    # -- the owner rule ------------------------------------------------------

    def test_a_manager_starting_a_process_keeps_the_salesman(self):
        self.team.sales_process_auto_start_lead = False
        lead = self._lead("SP Owner Rule", user=self.salesman)
        process = self._start(lead, user=self.manager)
        self.assertEqual(lead.user_id, self.salesman, "the salesman stays the salesperson")
        self.assertEqual(process.user_id, self.salesman, "and owns the process")
        self.assertEqual(process.log_ids.user_id, self.manager, "the log says who started it")
        self.assertFalse(
            lead.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == "user_id"),
            "no salesperson change in the chatter",
        )

    def test_the_owner_given_becomes_the_salesperson(self):
        self.team.sales_process_auto_start_lead = False
        lead = self._lead("SP Owner Given", user=self.salesman)
        process = self._start(lead, user=self.manager, values={"user_id": self.salesman_2.id})
        self.assertEqual(lead.user_id, self.salesman_2)
        self.assertEqual(process.user_id, self.salesman_2)

    def test_an_unassigned_record_started_by_hand_goes_to_who_starts_it(self):
        self.team.sales_process_auto_start_lead = False
        lead = self._lead("SP Owner Unassigned", user=self.salesman)
        lead.user_id = False
        process = self._start(lead, user=self.manager)
        self.assertEqual(process.user_id, self.manager)
