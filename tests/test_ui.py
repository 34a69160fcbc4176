# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import re
from contextlib import contextmanager
from unittest.mock import patch
from urllib.parse import unquote

import odoo.http
from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesProcessCase

# requests that are not round trips of a button: assets, images, the bus,
# the messaging menu's own loading
NOT_A_ROUND_TRIP = re.compile(
    r"^/(web/(assets|bundle|static|image|content|webclient/(translations|load_menus))|[^/]+/static/|websocket|"
    r"favicon|web/dataset/call_kw/discuss\.channel/)"
)
# the request that runs the operation of a button, after its form if any
RUNS = re.compile(r"/(action_confirm|action_lost_reason_apply|action_restore|action_set_won_rainbowman)$")
# requests of each button up to the one that runs its transition (or Odoo's
# operation), included; docs/screens.md lists them with the reloads after
UNTIL_RUN = {
    "Qualify": 5,  # the button, the form's view (first form of the session), its defaults, save, confirm
    "Develop": 4,
    "Back to New (a transition of no value, no confirmation)": 1,
    "Close as Won": 4,
    "Reopen": 1,  # its confirmation is the browser's, without a request
    "Close as Lost": 5,  # one more: the reasons the user looks up while typing
    "Disqualify": 5,  # the form's view again: a new session
    "Follow Up": 4,
    "Reactivate": 1,
    "Odoo's Lost": 6,  # its action, its view, its defaults, the reasons, save, confirm
    "Odoo's Restore": 1,
    "Odoo's Won": 1,
}


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

    @contextmanager
    def _requests(self):
        """The paths of the requests the server gets in the block."""
        requests = []
        serve = odoo.http.Application.__call__

        def recording(app, environ, start_response):
            path = environ.get("PATH_INFO", "")
            if not NOT_A_ROUND_TRIP.match(path):
                query = environ.get("QUERY_STRING")
                requests.append(f"{path}?{query}" if query else path)
            return serve(app, environ, start_response)

        with patch.object(odoo.http.Application, "__call__", recording):
            yield requests

    @staticmethod
    def _by_button(requests):
        """{button: its requests}: those after the tour's marker of a button
        (countFrom in the tour), up to the next marker."""
        result = {}
        label = None
        for path in requests:
            marker = re.search(r"sp_round_trips=([^&]+)", path)
            if marker:
                label = unquote(marker.group(1))
                result[label] = []
            elif label:
                result[label].append(path.removeprefix("/web/dataset/"))
        result.pop("end", None)
        return result

    def test_tour_round_trips(self):
        """The requests of every button, as docs/screens.md lists them: a
        transition that asks no value runs in the first request of its
        click, without a form (its confirmation, if any, is the browser's)."""
        self.env["crm.sales.process.transition"].create(
            {
                "workflow_id": self.workflow.id,
                "name": "Back to New",
                "code": "back_to_new",
                "effect": "none",
                "from_step_ids": [(6, 0, self.steps["developed_opportunity"].ids)],
                "to_step_id": self.steps["new_opportunity"].id,
                "sequence": 99,
            }
        )
        deal = self._start(self._lead("SP Round Trips"), user=self.salesman).lead_id
        lead = self._start(self._lead("SP Round Trips Lead"), user=self.salesman).lead_id
        plain = self.env["crm.lead"].create(
            {"name": "SP Plain Deal", "type": "opportunity", "team_id": self.team_b2c.id, "user_id": self.salesman.id}
        )
        with self._requests() as requests:
            for record, tour in (
                (deal, "crm_sales_process_round_trips"),
                (lead, "crm_sales_process_round_trips_lead"),
                (plain, "crm_sales_process_round_trips_odoo"),
            ):
                self.start_tour(f"/odoo/action-crm.crm_lead_all_leads/{record.id}", tour, login="sp_salesman")
        until_run = {}
        by_button = self._by_button(requests)
        for button, paths in by_button.items():
            # the button's own calls: the chatter loads its messages by itself,
            # whenever it is shown (a new session's may arrive late)
            paths = [path for path in paths if path.startswith(("call_kw/", "call_button/", "/web/action/"))]
            runs = [i for i, path in enumerate(paths) if RUNS.search(path)]
            if not runs:  # it runs at once: its first request, when it is the button's
                runs = [i for i, path in enumerate(paths[:1]) if path.endswith("/action_sales_process_transition")]
            self.assertTrue(runs, f"{button}: no request ran it in {paths}")
            until_run[button] = runs[0] + 1
        self.assertEqual(until_run, UNTIL_RUN, by_button)
