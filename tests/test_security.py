# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestSecurity(SalesProcessCase):
    """Groups, ACLs and record rules as a salesman, a manager and a user of
    another company."""

    def test_groups_are_implied_by_sales_groups(self):
        self.assertTrue(self.salesman.has_group("crm_sales_process.group_sales_process_user"))
        self.assertFalse(self.salesman.has_group("crm_sales_process.group_sales_process_manager"))
        self.assertTrue(self.manager.has_group("crm_sales_process.group_sales_process_manager"))
        self.assertTrue(self.manager.has_group("crm_sales_process.group_sales_process_user"))

    def test_salesman_sees_and_moves_own_processes_only(self):
        mine = self._start(user=self.salesman)
        theirs = self._start(user=self.salesman_2)
        Process = self.Process.with_user(self.salesman)
        visible = Process.search([("id", "in", (mine | theirs).ids)])
        self.assertEqual(visible, mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).read(["name"])
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).run_transition("disqualify")
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).write({"name": "mine now"})
        mine.with_user(self.salesman).run_transition("qualify", {"company_name": "Initech SP"})
        self.assertEqual(mine.step_code, "new_opportunity")
        # own logs only
        logs = (
            self.env["crm.sales.process.log"]
            .with_user(self.salesman)
            .search([("process_id", "in", (mine | theirs).ids)])
        )
        self.assertEqual(logs.process_id, mine)

    def test_salesman_cannot_start_on_someone_elses_lead(self):
        lead = self._lead(user=self.salesman_2)
        with self.assertRaises(AccessError):
            self.Process.with_user(self.salesman).start_from_lead(lead.id)
        self.assertFalse(lead.sales_process_id)

    def test_salesman_cannot_delete_nor_forge(self):
        process = self._start(user=self.salesman)
        with self.assertRaises(AccessError):
            process.with_user(self.salesman).unlink()
        log = process.log_ids
        with self.assertRaises(AccessError):
            log.with_user(self.salesman).write({"user_id": self.salesman_2.id})
        with self.assertRaises(AccessError):
            self.env["crm.sales.process.log"].with_user(self.salesman).create(
                {
                    "process_id": process.id,
                    "transition_id": log.transition_id.id,
                    "user_id": self.salesman.id,
                    "date": log.date,
                }
            )
        with self.assertRaises(AccessError):
            log.with_user(self.salesman).unlink()

    def test_configuration_is_for_managers(self):
        transition = self.workflow.transition_ids[0]
        step = self.workflow.step_ids[0]
        for model_record in (self.workflow, transition, step):
            record = model_record.with_user(self.salesman)
            record.read(["name"])  # readable
            with self.assertRaises(AccessError):
                record.write({"name": "hacked"})
            with self.assertRaises(AccessError):
                record.unlink()
        with self.assertRaises(AccessError):
            self.env["crm.sales.process.workflow"].with_user(self.salesman).create({"name": "Mine"})
        self.workflow.with_user(self.manager).write({"description": "<p>managed</p>"})
        copy = self.env["crm.sales.process.workflow"].with_user(self.manager).create({"name": "Manager's"})
        copy.unlink()

    def test_manager_sees_and_moves_everything(self):
        theirs = self._start(user=self.salesman_2)
        Process = self.Process.with_user(self.manager)
        self.assertIn(theirs, Process.search([]))
        theirs.with_user(self.manager).run_transition("disqualify")
        self.assertEqual(theirs.step_code, "disqualified_lead")
        self.assertEqual(theirs.log_ids.sorted()[0].user_id, self.manager)
        theirs.with_user(self.manager).unlink()
        self.assertFalse(theirs.exists())

    def test_other_company(self):
        process = self._start(user=self.salesman)
        Process = self.Process.with_user(self.other_user)
        self.assertNotIn(process, Process.search([]))
        with self.assertRaises(AccessError):
            process.with_user(self.other_user).read(["name"])
        with self.assertRaises(AccessError):
            process.with_user(self.other_user).run_transition("disqualify")
        self.assertFalse(
            self.env["crm.sales.process.log"].with_user(self.other_user).search([("process_id", "=", process.id)])
        )
        # a channel and a lead of their own company work for them
        team = (
            self.env["crm.team"]
            .with_user(self.other_user)
            .create({"name": "Other B2B", "channel_type": "b2b", "company_id": self.other_company.id})
        )
        lead = (
            self.env["crm.lead"]
            .with_user(self.other_user)
            .create({"name": "Other lead", "type": "lead", "team_id": team.id, "company_id": self.other_company.id})
        )
        own = Process.browse(Process.start_from_lead(lead.id))
        self.assertEqual(own.company_id, self.other_company)
        self.assertEqual(own.workflow_id, self.workflow, "the default workflow is shared")
        self.assertNotIn(own, self.Process.with_user(self.salesman).search([]))

    def test_workflow_of_another_company_is_hidden(self):
        private = self.workflow.copy({"name": "Private SP", "company_id": self.other_company.id})
        self.assertNotIn(private, self.env["crm.sales.process.workflow"].with_user(self.salesman).search([]))

    def test_portal_user_has_no_access(self):
        portal = mail_new_test_user(self.env, login="sp_portal", groups="base.group_portal")
        process = self._start()
        with self.assertRaises(AccessError):
            process.with_user(portal).read(["name"])
        with self.assertRaises(AccessError):
            self.Process.with_user(portal).start_from_lead(self._lead().id)
        with self.assertRaises(AccessError):
            process.with_user(portal).run_transition("disqualify")
