# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import xmlrpc.client

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestXmlRpc(HttpCase, SalesProcessCase):
    """An external client drives the whole seed workflow through the public
    contract (DESIGN.md section 2) over XML-RPC, as the salesman."""

    def setUp(self):
        super().setUp()
        self.uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "sp_salesman", "sp_salesman", {})
        self.assertEqual(self.uid, self.salesman.id)

    def call(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.uid, "sp_salesman", model, method, list(args), kwargs
        )

    def run_transition(self, process_id, code, values=None):
        return self.call("crm.sales.process", "run_transition", [process_id], code, values or {})

    def read_process(self, process_id):
        [process] = self.call(
            "crm.sales.process",
            "read",
            [process_id],
            ["step_code", "lead_id", "opportunity_id", "available_transition_ids", "log_ids"],
        )
        return process

    def test_whole_seed_workflow(self):
        lead_id = self.call(
            "crm.lead",
            "create",
            {"name": "RPC lead", "type": "lead", "team_id": self.team.id, "partner_name": "RPC Corp SP"},
        )
        process_id = self.call("crm.sales.process", "start_from_lead", lead_id)
        self.assertIsInstance(process_id, int)
        self.assertEqual(self.read_process(process_id)["step_code"], "new_lead")
        steps = [
            ("disqualify", {"reason": "not now"}, "disqualified_lead"),
            ("follow_up", {"note": "call in May"}, "disqualified_lead"),
            ("reactivate", {}, "new_lead"),
            ("qualify", {"company_name": "RPC Corp SP", "opportunity_name": "RPC deal"}, "new_opportunity"),
            (
                "develop",
                {
                    "partner_id": self.customer.id,
                    "budget_amount": 1000,
                    "probability": 50,
                    "customer_need": "speed",
                    "proposed_solution": "a faster horse",
                },
                "developed_opportunity",
            ),
            ("close_as_won", {"close_revenue": 900, "close_date": "2026-11-20"}, "won_opportunity"),
            ("reopen", {}, "new_opportunity"),
            ("close_as_lost", {"lost_reason_id": self.outsold.id}, "lost_opportunity"),
            ("reopen", {}, "new_opportunity"),
        ]
        for code, values, expected in steps:
            result = self.run_transition(process_id, code, values)
            self.assertTrue(result, f"{code} returns True or an action, never None")
            process = self.read_process(process_id)
            self.assertEqual(process["step_code"], expected, code)
        self.assertEqual(len(process["log_ids"]), 10)
        # the reactivated lead is a new record, linked to the disqualified one
        [lead] = self.call("crm.lead", "read", [process["lead_id"][0]], ["sales_process_origin_id", "name"])
        self.assertEqual(lead["sales_process_origin_id"][0], lead_id)
        # start from an opportunity
        opportunity_id = self.call(
            "crm.lead", "create", {"name": "RPC opportunity", "type": "opportunity", "team_id": self.team.id}
        )
        process_id = self.call("crm.sales.process", "start_from_opportunity", opportunity_id, {})
        self.assertEqual(self.read_process(process_id)["step_code"], "new_opportunity")

    @mute_logger("odoo.http")
    def test_refusals_reach_the_client_as_faults(self):
        lead_id = self.call("crm.lead", "create", {"name": "RPC refusals", "type": "lead", "team_id": self.team.id})
        process_id = self.call("crm.sales.process", "start_from_lead", lead_id)
        cases = [
            (("develop", {"partner_id": self.customer.id}), "not available"),
            (("qualify", {}), "missing Customer"),
            (("qualify", {"company_name": "X", "budget": 3}), "unknown values budget"),
        ]
        for (code, values), fragment in cases:
            with self.subTest(code=code), self.assertRaises(xmlrpc.client.Fault) as caught:
                self.run_transition(process_id, code, values)
            self.assertIn(fragment, caught.exception.faultString)
            self.assertNotIn("Traceback", caught.exception.faultString.split("\n")[-1])
        self.run_transition(process_id, "qualify", {"company_name": "RPC refusals SP"})
        for values, fragment in (
            ({"close_revenue": -5}, "negative"),
            ({"close_revenue": 5, "close_date": "soon"}, "must be a date"),
        ):
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                self.run_transition(process_id, "close_as_won", values)
            self.assertIn(fragment, caught.exception.faultString)
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.run_transition(process_id, "close_as_lost", {"lost_reason_id": 987654})
        self.assertIn("987654", caught.exception.faultString)
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.run_transition(process_id, "develop", {"partner_id": self.customer.id, "probability": 101})
        self.assertIn("between 0 and 100", caught.exception.faultString)
        b2c_lead = self.call("crm.lead", "create", {"name": "B2C", "type": "lead", "team_id": self.team_b2c.id})
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.call("crm.sales.process", "start_from_lead", b2c_lead)
        self.assertIn("not a B2B channel", caught.exception.faultString)
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.call("crm.sales.process", "start_from_lead", lead_id)
        self.assertIn("already follows", caught.exception.faultString)
        self.assertEqual(self.read_process(process_id)["step_code"], "new_opportunity")

    def test_create_in_an_auto_start_channel(self):
        """A client creates a lead with the fewest fields (a name, a channel
        that starts a process for every new lead): the process has started
        when create returns, owned by the client's user, the lead's default
        salesperson."""
        self.team.write({"sales_process_auto_start_lead": True, "sales_process_auto_start_opportunity": True})
        lead_id = self.call("crm.lead", "create", {"name": "RPC auto lead", "team_id": self.team.id})
        [lead] = self.call("crm.lead", "read", [lead_id], ["sales_process_id", "type", "user_id"])
        self.assertTrue(lead["sales_process_id"])
        self.assertEqual(lead["user_id"][0], self.salesman.id)
        [process] = self.call(
            "crm.sales.process", "read", [lead["sales_process_id"][0]], ["step_code", "user_id", "lead_id"]
        )
        self.assertEqual(process["step_code"], f"new_{lead['type']}")
        self.assertEqual(process["user_id"][0], self.salesman.id)


@tagged("post_install", "-at_install")
class TestXmlRpcCustomize(HttpCase, SalesProcessCase):
    """An administrator customizes the workflow through XML-RPC alone."""

    def call(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.uid, "sp_manager", model, method, list(args), kwargs
        )

    def test_copy_customize_assign_and_run(self):
        self.uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "sp_manager", "sp_manager", {})
        copy = self.call("crm.sales.process.workflow", "copy", [self.workflow.id], {"name": "RPC custom"})
        copy_id = copy[0] if isinstance(copy, list) else copy
        steps = {
            s["code"]: s["id"]
            for s in self.call("crm.sales.process.step", "search_read", [("workflow_id", "=", copy_id)], ["code"])
        }
        transitions = {
            t["code"]: t["id"]
            for t in self.call("crm.sales.process.transition", "search_read", [("workflow_id", "=", copy_id)], ["code"])
        }
        negotiation = self.call(
            "crm.sales.process.step",
            "create",
            {
                "workflow_id": copy_id,
                "code": "negotiation",
                "name": "Negotiation",
                "record_type": "opportunity",
                "sequence": 45,
            },
        )
        negotiate = self.call(
            "crm.sales.process.transition",
            "create",
            {
                "workflow_id": copy_id,
                "code": "negotiate",
                "name": "Negotiate",
                "effect": "none",
                "from_step_ids": [(6, 0, [steps["developed_opportunity"]])],
                "to_step_id": negotiation,
                "button_style": "primary",
                "sequence": 55,
            },
        )
        self.call(
            "crm.sales.process.transition",
            "write",
            [transitions["close_as_won"]],
            {"from_step_ids": [(4, negotiation)]},
        )
        team = self.call(
            "crm.team",
            "create",
            {"name": "RPC custom channel", "channel_type": "b2b", "sales_process_workflow_id": copy_id},
        )
        lead = self.call("crm.lead", "create", {"name": "RPC custom lead", "type": "lead", "team_id": team})
        process = self.call("crm.sales.process", "start_from_lead", lead)
        for code, values in (
            ("qualify", {"company_name": "RPC custom SP"}),
            ("develop", {"partner_id": self.customer.id}),
        ):
            self.call("crm.sales.process", "run_transition", [process], code, values)
        [data] = self.call("crm.sales.process", "read", [process], ["available_transition_ids", "workflow_id"])
        self.assertEqual(data["workflow_id"][0], copy_id)
        self.assertIn(negotiate, data["available_transition_ids"])
        self.call("crm.sales.process", "run_transition", [process], "negotiate", {})
        [data] = self.call("crm.sales.process", "read", [process], ["step_code", "available_transition_ids"])
        self.assertEqual(data["step_code"], "negotiation")
        self.assertIn(transitions["close_as_won"], data["available_transition_ids"])
        self.call("crm.sales.process", "run_transition", [process], "close_as_won", {"close_revenue": 10})
        # a process of the default workflow is unaffected
        default_process = self._process_at("developed_opportunity")
        [data] = self.call("crm.sales.process", "read", [default_process.id], ["available_transition_ids"])
        self.assertNotIn(negotiate, data["available_transition_ids"])
        self.assertEqual(
            sorted(data["available_transition_ids"]),
            sorted(self.workflow.transition_ids.filtered(lambda t: t.code in ("close_as_won", "close_as_lost")).ids),
        )
        # the lead form shows the new button
        views = self.call("crm.lead", "get_views", [(False, "form")])
        self.assertIn('string="Negotiate"', views["views"]["form"]["arch"])
        self.assertIn(f'invisible="{negotiate} not in sales_process_transition_ids"', views["views"]["form"]["arch"])
