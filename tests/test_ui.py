# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestUi(HttpCase, SalesProcessCase):
    """Browser tours, as a salesman (not an admin), in Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman.group_ids |= cls.env.ref("crm.group_use_lead")
        # the salesman's default team for new leads is the B2B channel
        cls.env["crm.team"].search([("id", "!=", cls.team.id)]).member_ids -= cls.salesman

    def test_tour_lead_to_won_and_reopen(self):
        self.start_tour("/odoo/action-crm.crm_lead_all_leads/new", "crm_sales_process_lead_to_won", login="sp_salesman")
        lead = self.env["crm.lead"].with_context(active_test=False).search([("name", "=", "SP Tour Lead")])
        self.assertEqual(len(lead), 2, "the won opportunity and the reopened one")
        process = lead.sales_process_id
        self.assertEqual(process.step_code, "new_opportunity")
        self.assertEqual(
            [log.transition_id.code for log in process.log_ids.sorted("id")],
            ["start_from_lead", "qualify", "develop", "close_as_won", "reopen"],
        )
        self.assertEqual(process.user_id, self.salesman)
        won = lead.filtered(lambda record: record.won_status == "won")
        self.assertEqual(won.expected_revenue, 19000)
        self.assertEqual(won.date_closed.date(), fields.Date.today(), "close date defaults to today")

    def test_tour_disqualify_follow_up_reactivate(self):
        process = self._start(self._lead("SP Tour Disqualify"), user=self.salesman)
        self.start_tour(
            f"/odoo/action-crm.crm_lead_all_leads/{process.lead_id.id}",
            "crm_sales_process_disqualify_reactivate",
            login="sp_salesman",
        )
        self.assertEqual(process.step_code, "new_lead")
        self.assertEqual(
            [log.transition_id.code for log in process.log_ids.sorted("id")],
            ["start_from_lead", "disqualify", "follow_up", "reactivate"],
        )

    def test_tour_kanban_drag(self):
        customer = self.env["res.partner"].create({"name": "SP Kanban Customer", "is_company": True})
        deal = self._start(self._lead("SP Kanban Deal", type="opportunity", partner_id=customer.id), user=self.salesman)
        lead = self._start(self._lead("SP Kanban Lead"), user=self.salesman)
        self.start_tour(
            "/odoo/action-crm_sales_process.crm_sales_process_action",
            "crm_sales_process_kanban",
            login="sp_salesman",
        )
        self.assertEqual(deal.step_code, "developed_opportunity")
        self.assertEqual(deal.opportunity_id.budget_amount, 5000)
        self.assertEqual(lead.step_code, "new_lead")

    def test_tour_admin_customizes_and_salesman_uses(self):
        self.start_tour(
            f"/odoo/action-crm_sales_process.crm_sales_process_workflow_action/{self.workflow.id}",
            "crm_sales_process_customize",
            login="admin",
        )
        clone = self.env["crm.sales.process.workflow"].search([("name", "=", "B2B with Negotiation")])
        self.assertEqual(len(clone), 1)
        negotiate = clone.transition_ids.filtered(lambda t: t.code == "negotiate")
        self.assertEqual(negotiate.from_step_ids.code, "developed_opportunity")
        self.assertEqual(negotiate.to_step_id.name, "Negotiation")
        self.assertFalse(self.workflow.step_ids.filtered(lambda s: s.code == "negotiation"))
        self.start_tour(
            f"/odoo/action-sales_team.crm_team_action_config/{self.team.id}",
            "crm_sales_process_assign_workflow",
            login="admin",
        )
        self.assertEqual(self.team.sales_process_workflow_id, clone)
        process = self._process_at("developed_opportunity")
        self.assertEqual(process.workflow_id, clone)
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{process.opportunity_id.id}",
            "crm_sales_process_negotiate",
            login="sp_salesman",
        )
        self.assertEqual(process.step_id, negotiate.to_step_id)
        self.assertEqual(process.log_ids.sorted()[0].transition_id, negotiate)

    def test_tour_plan_set_by_admin_used_by_salesman(self):
        """An admin gives Developed Opportunity an activity plan; a salesman
        develops an opportunity and sees the plan's activities on it."""
        plan = self._new_plan("SP Tour Plan", [("SP Demo call", 2), ("SP Budget check", 5), ("SP Proposal", 10)])
        self.start_tour(
            f"/odoo/action-crm_sales_process.crm_sales_process_workflow_action/{self.workflow.id}",
            "crm_sales_process_set_plan",
            login="admin",
        )
        self.assertEqual(self.steps["developed_opportunity"].activity_plan_id, plan)
        process = self._process_at("new_opportunity")
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{process.opportunity_id.id}",
            "crm_sales_process_develop_with_plan",
            login="sp_salesman",
        )
        self.assertEqual(process.step_code, "developed_opportunity")
        activities = process.opportunity_id.activity_ids
        self.assertEqual(sorted(activities.mapped("summary")), ["SP Budget check", "SP Demo call", "SP Proposal"])
        self.assertEqual(activities.user_id, self.salesman, "the process owner has them")
        today = fields.Date.context_today(process)
        self.assertEqual(
            sorted((a.date_deadline - today).days for a in activities), [2, 5, 10], "due counting from the entry"
        )
