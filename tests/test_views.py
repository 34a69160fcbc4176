# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestViews(SalesProcessCase):
    """The transition buttons come from the workflows' transition records,
    injected in the cached form arch, shown by the record's available
    transitions."""

    def _form_arch(self, model="crm.lead"):
        views = self.env[model].with_user(self.salesman).get_views([(False, "form")])
        return etree.fromstring(views["views"]["form"]["arch"])

    def _buttons(self, arch):
        return arch.xpath("//header/button[@name='action_sales_process_transition']")

    def test_lead_form_has_a_button_per_transition(self):
        transitions = self.env["crm.sales.process.transition"].search(
            [("is_start", "=", False), ("workflow_id.active", "=", True)]
        )
        for model, field in (
            ("crm.lead", "sales_process_transition_ids"),
            ("crm.sales.process", "available_transition_ids"),
        ):
            with self.subTest(model=model):
                buttons = self._buttons(self._form_arch(model))
                self.assertEqual(len(buttons), len(transitions))
                by_label = {button.get("string"): button for button in buttons}
                qualify = self.env.ref("crm_sales_process.transition_qualify")
                button = by_label["Qualify"]
                self.assertEqual(button.get("invisible"), f"{qualify.id} not in {field}")
                self.assertIn("btn-primary", button.get("class"))
                self.assertIn("btn-danger", by_label["Disqualify"].get("class"))
                self.assertIn("A new opportunity will be created", by_label["Reopen"].get("confirm"))

    def test_renamed_transition_shows_in_the_next_get_views(self):
        self._form_arch()
        qualify = self.env.ref("crm_sales_process.transition_qualify")
        qualify.with_user(self.manager).name = "Qualify the lead"
        labels = [button.get("string") for button in self._buttons(self._form_arch())]
        self.assertIn("Qualify the lead", labels)
        self.assertNotIn("Qualify", labels)

    def test_form_costs_no_query_per_transition(self):
        def warm_cost():
            self._form_arch()  # fill the view cache
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            buttons = self._buttons(self._form_arch())
            return self.cr.sql_log_count - before, len(buttons)

        cost, count = warm_cost()
        workflow = self.env["crm.sales.process.workflow"].create({"name": "Many buttons"})
        step = self.env["crm.sales.process.step"].create(
            {"workflow_id": workflow.id, "code": "extra", "name": "Extra", "record_type": "opportunity"}
        )
        self.env["crm.sales.process.transition"].create(
            [
                {
                    "workflow_id": workflow.id,
                    "code": f"extra_{i}",
                    "name": f"Extra {i}",
                    "from_step_ids": [(6, 0, step.ids)],
                    "to_step_id": step.id,
                }
                for i in range(20)
            ]
        )
        self.assertEqual(
            warm_cost(), (cost, count + 20), "20 more buttons, and a warm form view costs the same queries"
        )

    def test_closed_record_form_is_read_only(self):
        arch = self._form_arch()
        name = arch.xpath("//sheet//field[@name='name']")[0]
        self.assertIn("sales_process_readonly", name.get("readonly"))
        process = self._process_at("won_opportunity")
        self.assertTrue(process.opportunity_id.sales_process_readonly)

    def test_transition_form_defaults(self):
        process = self._start(self._lead(description="<p>Big project</p>"), user=self.salesman)
        qualify = self.env.ref("crm_sales_process.transition_qualify")
        action = (
            process.lead_id.with_user(self.salesman)
            .with_context(sales_process_transition_id=qualify.id)
            .action_sales_process_transition()
        )
        self.assertEqual(action["res_model"], "crm.sales.process.transition.wizard")
        wizard = Form(self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"]))
        self.assertEqual(wizard.opportunity_name, "Website redesign")
        self.assertEqual(wizard.company_name, "Initech SP")
        self.assertIn("Big project", wizard.notes)
        self.assertEqual(wizard.value_keys, ",opportunity_name,partner_id,company_name,notes,")
        record = wizard.save()
        record.action_confirm()
        self.assertEqual(process.step_code, "new_opportunity")

    def _transition_form(self, process, xmlid):
        action = (
            process.lead_id.with_user(self.salesman)
            .with_context(sales_process_transition_id=self.env.ref(xmlid).id)
            .action_sales_process_transition()
        )
        return Form(self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"]))

    def test_transition_form_sends_a_cleared_field_as_empty(self):
        """A field the user cleared reaches the engine empty: not replaced by
        its default (required fields are required by the form itself)."""
        process = self._start(user=self.salesman)
        wizard = self._transition_form(process, "crm_sales_process.transition_qualify")
        self.assertEqual(wizard.company_name, "Initech SP", "the form proposes the lead's company")
        wizard.company_name = False  # cleared, and no customer chosen
        with self.assertRaises(UserError) as caught:
            wizard.save().action_confirm()
        self.assertIn("missing Customer", str(caught.exception))
        self.assertEqual(process.step_code, "new_lead")

        process.run_transition("qualify", {"company_name": "Initech SP"})
        process.opportunity_id.customer_need = "Faster checkout"
        wizard = self._transition_form(process, "crm_sales_process.transition_develop")
        self.assertEqual(wizard.customer_need, "Faster checkout")
        wizard.customer_need = False
        wizard.save().action_confirm()
        self.assertEqual(process.step_code, "developed_opportunity")
        self.assertFalse(process.opportunity_id.customer_need, "cleared in the form: emptied")

    def test_transition_without_values_runs_directly(self):
        process = self._process_at("disqualified_lead")
        reactivate = self.env.ref("crm_sales_process.transition_reactivate")
        action = (
            process.lead_id.with_user(self.salesman)
            .with_context(sales_process_transition_id=reactivate.id)
            .action_sales_process_transition()
        )
        self.assertEqual(process.step_code, "new_lead")
        self.assertEqual(action["res_id"], process.lead_id.id, "the new lead opens")

    def test_kanban_drop(self):
        process = self._process_at("new_opportunity")
        developed = self.steps["developed_opportunity"]
        action = process.with_user(self.salesman).action_move_to_step(developed.id)
        self.assertEqual(action["res_model"], "crm.sales.process.transition.wizard")
        self.assertEqual(process.step_code, "new_opportunity", "the form decides")
        won = self._process_at("won_opportunity")
        action = won.with_user(self.salesman).action_move_to_step(self.steps["new_opportunity"].id)
        self.assertEqual(
            action["res_model"], "crm.sales.process.transition.wizard", "reopen asks for confirmation in its form"
        )
        disqualified = self._process_at("disqualified_lead")
        disqualified.with_user(self.salesman).action_move_to_step(self.steps["new_lead"].id)
        self.assertEqual(disqualified.step_code, "new_lead", "reactivate takes no values: it ran")

    def test_final_steps_are_folded_in_the_kanban(self):
        self._process_at("new_opportunity")
        # as the kanban asks: every step a column, the unfolded ones opened
        result = (
            self.Process.with_user(self.salesman)
            .with_context(read_group_expand=True)
            .web_read_group([], ["step_id"], ["__count"], auto_unfold=True, unfold_read_specification={"name": {}})
        )
        folded = {group["step_id"][0]: "__records" not in group for group in result["groups"]}
        steps = self.env["crm.sales.process.step"].browse(folded)
        self.assertEqual(set(steps.mapped("code")), set(self.steps))
        for step in steps:
            self.assertEqual(folded[step.id], step.is_final, step.code)
