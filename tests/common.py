# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import shutil
import subprocess
from pathlib import Path

from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user

ADDON = Path(__file__).resolve().parents[1]


def copy_addon(into, name="crm_sales_process"):
    """The addon's files as git knows them (tracked or new, not ignored) in
    ``into``/``name`` (by default the addon's name, which Odoo reads the
    module's from), without the .venv and .cache the checkout's own folder
    also holds."""
    target = Path(into) / name
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ADDON,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for path in filter(None, listed):
        source = ADDON / path
        if source.is_file():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / path)
    return target


class SalesProcessCase(TransactionCase):
    """A B2B channel, a salesman, a manager and a user of another company;
    helpers that create leads and drive them through the default workflow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Process = cls.env["crm.sales.process"]
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Other Company SP"})
        cls.salesman = cls._new_user("sp_salesman", "Sam Salesman", "sales_team.group_sale_salesman")
        cls.salesman_2 = cls._new_user("sp_salesman_2", "Sue Salesman", "sales_team.group_sale_salesman")
        cls.manager = cls._new_user("sp_manager", "Max Manager", "sales_team.group_sale_manager")
        cls.other_user = cls._new_user(
            "sp_other_company", "Olga Other", "sales_team.group_sale_manager", cls.other_company
        )
        cls.workflow = cls.env.ref("crm_sales_process.workflow_b2b")
        # the demo data gives the default workflow an activity plan (Developed
        # Opportunity) and an email (Close as Won): the tests of the engine
        # run it without them, test_plans_emails with them (the demo's included)
        cls.workflow.step_ids.activity_plan_id = False
        cls.workflow.transition_ids.mail_template_id = False
        cls.team = cls.env["crm.team"].create(
            {
                "name": "SP B2B Channel",
                "channel_type": "b2b",
                "company_id": cls.company.id,
                "member_ids": [(6, 0, (cls.salesman | cls.salesman_2 | cls.manager).ids)],
            }
        )
        cls.team_b2c = cls.env["crm.team"].create(
            {"name": "SP B2C Channel", "channel_type": "b2c", "company_id": cls.company.id}
        )
        cls.outsold = cls.env.ref("crm_sales_process.lost_reason_outsold")
        cls.cancelled = cls.env.ref("crm_sales_process.lost_reason_cancelled")
        cls.disqualified = cls.env.ref("crm_sales_process.lost_reason_disqualified")
        cls.customer = cls.env["res.partner"].create({"name": "Globex SP Corporation", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create({"name": "Hank Scorpio", "parent_id": cls.customer.id})
        cls.steps = {step.code: step for step in cls.workflow.step_ids}

    # -- helpers -------------------------------------------------------

    @classmethod
    def _new_user(cls, login, name, groups, company=None):
        """A user of ``company`` only (default: the main company)."""
        company = company or cls.company
        return mail_new_test_user(
            cls.env,
            login=login,
            name=name,
            email=f"{login}@example.com",
            groups=groups,
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )

    @classmethod
    def _new_plan(cls, name, activities, responsible=None):
        """An activity plan of leads: one to-do per (summary, days after the
        plan date), assigned at launch unless ``responsible`` is given."""
        todo = cls.env.ref("mail.mail_activity_data_todo")
        return cls.env["mail.activity.plan"].create(
            {
                "name": name,
                "res_model": "crm.lead",
                "template_ids": [
                    (
                        0,
                        0,
                        {
                            "activity_type_id": todo.id,
                            "summary": summary,
                            "delay_count": days,
                            "delay_from": "after_plan_date",
                            "responsible_type": "other" if responsible else "on_demand",
                            "responsible_id": responsible.id if responsible else False,
                        },
                    )
                    for summary, days in activities
                ],
            }
        )

    def _lead(self, name="Website redesign", type="lead", user=None, **vals):
        values = {
            "name": name,
            "type": type,
            "team_id": self.team.id,
            "user_id": (user or self.salesman).id,
            "partner_name": "Initech SP",
            "contact_name": "Peter Gibbons",
            "email_from": "peter@initech.example.com",
            "description": "<p>Needs a new website</p>",
            "expected_revenue": 5000,
        }
        values.update(vals)
        return self.env["crm.lead"].create(values)

    def _start(self, lead=None, user=None, values=None):
        lead = lead or self._lead(user=user)
        Process = self.Process.with_user(user) if user else self.Process
        if lead.type == "lead":
            return Process.browse(Process.start_from_lead(lead.id, values))
        return Process.browse(Process.start_from_opportunity(lead.id, values))

    def _process_at(self, code, user=None):
        """A process of the salesman driven to the step ``code``."""
        paths = {
            "new_lead": [],
            "disqualified_lead": [("disqualify", {})],
            "new_opportunity": [("qualify", {"company_name": "Initech SP"})],
            "developed_opportunity": [
                ("qualify", {"company_name": "Initech SP"}),
                ("develop", {"partner_id": self.customer.id}),
            ],
            "won_opportunity": [
                ("qualify", {"company_name": "Initech SP"}),
                ("close_as_won", {"close_revenue": 7000}),
            ],
            "lost_opportunity": [
                ("qualify", {"company_name": "Initech SP"}),
                ("close_as_lost", {"lost_reason_id": self.outsold.id}),
            ],
        }
        process = self._start(user=user or self.salesman)
        for transition, values in paths[code]:
            process.run_transition(transition, values)
        self.assertEqual(process.step_code, code)
        return process

    def assertConsistent(self, process):
        """The process and its current record agree (type, active, won status,
        stage), as the audit of the load test checks."""
        step = process.step_id
        record = process.current_lead_id
        self.assertTrue(record, "a started process always has a current record")
        self.assertEqual(record.sales_process_id, process)
        self.assertEqual(record.sales_process_step_id, step)
        self.assertEqual(record.type, step.record_type)
        expected_status = {"open": "pending", "won": "won", "lost": "lost"}[step.outcome]
        self.assertEqual(record.won_status, expected_status)
        self.assertEqual(record.active, step.outcome != "lost")
        if step.stage_id and step.record_type == "opportunity":
            self.assertEqual(record.stage_id, step.stage_id)

    def snapshot(self, *records):
        """The stored values of records, to assert that nothing changed."""
        result = []
        for record in records:
            record.invalidate_recordset()
            fnames = [
                name
                for name, field in record._fields.items()
                if field.store
                and field.type not in ("one2many", "many2many", "binary")
                and name not in ("write_date", "__last_update")
            ]
            result.append(record.with_context(active_test=False).read(fnames))
        return result

    def assertUnchanged(self, before, *records):
        self.assertEqual(self.snapshot(*records), before)
