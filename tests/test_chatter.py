# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from markupsafe import Markup

from odoo.tests import tagged
from odoo.tools import plaintext2html

from ..models.crm_sales_process_effects import REOPEN_VALUES
from .common import SalesProcessCase

NOTE = "Called back: budget next year."
DEVELOP = {"budget_amount": 5000, "probability": 50, "customer_need": "Faster quotes"}


@tagged("post_install", "-at_install")
class TestChatter(SalesProcessCase):
    """A transition's chatter (its messages are created in one go) is what
    Odoo's own operation writes on the same records: message by message,
    field by field, tracking values and the followers it notifies included.
    Both sides run on three records at once, each followed by a colleague
    (every subtype, in Odoo) and an outside partner (won and lost, by email),
    in a channel the colleague follows."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = cls._new_user("sp_colleague", "Cleo Colleague", "sales_team.group_sale_salesman")
        cls.colleague.notification_type = "inbox"
        cls.watcher = cls.env["res.partner"].create({"name": "Walt Watcher", "email": "walt@example.com"})
        ref = cls.env.ref
        cls.every_subtype = [
            ref(xmlid).id
            for xmlid in (
                "mail.mt_comment",
                "mail.mt_note",
                "crm.mt_lead_create",
                "crm.mt_lead_stage",
                "crm.mt_lead_won",
                "crm.mt_lead_lost",
                "crm.mt_lead_restored",
            )
        ]
        cls.closings = [ref("crm.mt_lead_won").id, ref("crm.mt_lead_lost").id]
        # the channel's followers follow the records made in it (reopen, reactivate)
        cls.team.message_subscribe(
            partner_ids=cls.colleague.partner_id.ids,
            subtype_ids=[ref(f"crm.mt_salesteam_{name}").id for name in ("lead", "lead_stage", "lead_won")],
        )
        stages = {step.code: step.stage_id for step in cls.workflow.step_ids}
        cls.qualified, cls.developed = stages["new_opportunity"], stages["developed_opportunity"]

    # -- the records of each side ------------------------------------------

    def _records(self, side, type="lead"):
        """Three records alike on both sides, but for the names of their
        customer (each side makes its own)."""
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"SP Chatter {i}",
                    "type": type,
                    "team_id": self.team.id,
                    "user_id": self.salesman.id,
                    "partner_name": f"Chatter {side} Company {i}",
                    "contact_name": f"Chatter {side} Contact {i}",
                    "email_from": f"chatter.{side}.{i}@example.com",
                    "expected_revenue": 1000,
                }
                for i in range(3)
            ]
        )

    def _processes(self, type="lead", path=()):
        leads = self._records("ours", type)
        Process = self.Process.with_user(self.manager)
        start = Process.start_from_lead if type == "lead" else Process.start_from_opportunity
        processes = Process.browse(start(leads.ids, {"user_id": self.salesman.id}))
        for code, values in path:
            processes.run_transition(code, values)
        return processes

    def _odoo(self, type="lead", stage=None):
        records = self._records("odoo", type).with_user(self.manager)
        if stage:
            records.write({"stage_id": stage.id})
        return records

    def _follow(self, records):
        records.sudo().message_subscribe(partner_ids=self.colleague.partner_id.ids, subtype_ids=self.every_subtype)
        records.sudo().message_subscribe(partner_ids=self.watcher.ids, subtype_ids=self.closings)

    # -- what a user reads ----------------------------------------------------

    def _chatter(self, records, since, parents, side):
        """Each record's new messages, as a user reads them; ``parents``: the
        parent Odoo's message_post would give each record's next message."""
        result = []
        for record in records:
            messages = self.env["mail.message"].search(
                [("model", "=", "crm.lead"), ("res_id", "=", record.id), ("id", ">", since)], order="id"
            )
            result.append([self._message(message, parents.get(record.id), side) for message in messages])
        return result

    def _message(self, message, parent, side):
        def text(value):
            return str(value or "").replace(side, "SIDE")

        tracking = []
        for value in message.tracking_value_ids.sorted("id"):
            if value.field_id.name == "sales_process_step_id":
                continue  # the process's own field: Odoo's operation has no step
            relational = value.field_id.ttype == "many2one"
            tracking.append(
                (
                    value.field_id.name,
                    text(value.old_value_char),
                    text(value.new_value_char),
                    None if relational else value.old_value_integer,
                    None if relational else value.new_value_integer,
                    value.old_value_float,
                    value.new_value_float,
                    value.old_value_datetime,
                    value.new_value_datetime,
                    value.currency_id.id,
                )
            )
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        return {
            "message_type": message.message_type,
            "subtype": message.subtype_id.id,
            "author": message.author_id.id,
            "email_from": message.email_from,
            "body": text(message.body),
            "subject": message.subject,
            "is_internal": message.is_internal,
            "record_company": message.record_company_id.id,
            "record_alias_domain": message.record_alias_domain_id.id,
            "reply_to": message.reply_to,
            "email_add_signature": message.email_add_signature,
            "parent as message_post chooses it": message.parent_id.id == (parent or False),
            "partners": message.partner_ids.ids,
            "attachments": message.attachment_ids.ids,
            "tracking": tracking,
            "notified": sorted(
                (n.res_partner_id.id, n.notification_type, n.notification_status, n.is_read)
                for n in message.notification_ids
            ),
            "emails": sorted((mail.recipient_ids.ids, text(mail.subject), mail.state) for mail in mails),
        }

    def _parents(self, records):
        return {record.id: record._message_compute_parent_id(False) for record in records}

    def _last_message(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM mail_message")
        return self.env.cr.fetchone()[0]

    def assertSameChatter(self, ours, odoo, run_ours, run_odoo, new_records=None):
        """Run both sides; compare the chatter of their records, and of the
        records they create (``new_records(result)``)."""
        self._follow(ours.current_lead_id | odoo)
        ours_records = ours.current_lead_id
        parents = {"ours": self._parents(ours_records), "odoo": self._parents(odoo)}
        since = self._last_message()
        result = run_ours(ours)
        middle = self._last_message()
        native = run_odoo(odoo)
        self._last_message()
        ours_chatter = self._chatter(ours_records, since, parents["ours"], "ours")
        odoo_chatter = self._chatter(odoo, middle, parents["odoo"], "odoo")
        self.assertEqual(ours_chatter, odoo_chatter)
        self.assertTrue(all(ours_chatter) or new_records, "the operation writes in the chatter")
        if new_records:
            ours_new, odoo_new = new_records(ours, result), native
            self.assertEqual(len(ours_new), 3)
            ours_chatter = self._chatter(ours_new, since, {}, "ours")
            self.assertEqual(ours_chatter, self._chatter(odoo_new, middle, {}, "odoo"))
            self.assertTrue(all(ours_chatter))
        return ours_chatter

    # -- each transition against Odoo's own operation -------------------------

    def test_qualify_as_converting(self):
        """Odoo's conversion, each lead to an opportunity of a new customer
        (the company and its contact), moved to the step's stage."""

        def convert(leads):
            for lead in leads:
                lead._handle_partner_assignment(create_missing=True)
                lead.convert_opportunity(lead.partner_id)
            leads.write({"stage_id": self.qualified.id})

        self.assertSameChatter(
            self._processes(),
            self._odoo(),
            lambda ours: ours.run_transition("qualify"),
            convert,
        )

    def test_disqualify_as_lost(self):
        chatter = self.assertSameChatter(
            self._processes(),
            self._odoo(),
            lambda ours: ours.run_transition("disqualify"),
            lambda odoo: odoo.action_set_lost(lost_reason_id=self.disqualified.id),
        )
        self.assertEqual(chatter[0][0]["subtype"], self.env.ref("crm.mt_lead_lost").id)
        self.assertTrue(chatter[0][0]["emails"], "the outside follower of the closings is mailed")

    def test_disqualify_with_reason_as_lost_dialog(self):
        """Odoo's "Lost" dialog with a closing note, whose label says Disqualified."""

        def lost_dialog(odoo):
            odoo._track_set_log_message(
                Markup('<div style="margin-bottom: 4px;"><p>%s:</p>%s<br /></div>')
                % ("Disqualified", plaintext2html("No budget this year"))
            )
            odoo.action_set_lost(lost_reason_id=self.disqualified.id)

        chatter = self.assertSameChatter(
            self._processes(),
            self._odoo(),
            lambda ours: ours.run_transition("disqualify", {"reason": "No budget this year"}),
            lost_dialog,
        )
        self.assertIn("No budget this year", chatter[2][0]["body"])

    def test_follow_up_as_note(self):
        ours = self._processes(path=[("disqualify", {})])
        odoo = self._odoo()
        odoo.action_set_lost(lost_reason_id=self.disqualified.id)
        chatter = self.assertSameChatter(
            ours,
            odoo.with_context(active_test=False),
            lambda ours: ours.run_transition("follow_up", {"note": NOTE}),
            lambda odoo: [
                lead.message_post(body=plaintext2html(NOTE), message_type="comment", subtype_xmlid="mail.mt_note")
                for lead in odoo
            ],
        )
        self.assertEqual(
            chatter[1][0]["notified"],
            [(self.colleague.partner_id.id, "inbox", "sent", False)],
            "the colleague following notes is notified in Odoo",
        )

    def test_reactivate_as_copy(self):
        ours = self._processes(path=[("disqualify", {})])
        odoo = self._odoo()
        odoo.action_set_lost(lost_reason_id=self.disqualified.id)
        self.assertSameChatter(
            ours,
            odoo.with_context(active_test=False),
            lambda ours: ours.run_transition("reactivate"),
            lambda odoo: odoo.copy({"active": True, "lost_reason_id": False}),
            new_records=lambda ours, result: ours.current_lead_id,
        )

    def test_develop_as_write(self):
        chatter = self.assertSameChatter(
            self._processes("opportunity"),
            self._odoo("opportunity", self.qualified),
            lambda ours: ours.run_transition("develop", dict(DEVELOP, partner_id=self.customer.id)),
            lambda odoo: odoo.write(dict(DEVELOP, partner_id=self.customer.id, stage_id=self.developed.id)),
        )
        self.assertEqual(chatter[0][0]["subtype"], self.env.ref("crm.mt_lead_stage").id)

    def test_close_as_won(self):
        def won(odoo):
            odoo.write({"expected_revenue": 7000})
            odoo.action_set_won()

        chatter = self.assertSameChatter(
            self._processes("opportunity"),
            self._odoo("opportunity", self.qualified),
            lambda ours: ours.run_transition("close_as_won", {"close_revenue": 7000}),
            won,
        )
        self.assertEqual(chatter[0][0]["subtype"], self.env.ref("crm.mt_lead_won").id)
        self.assertEqual(len(chatter[0][0]["notified"]), 2, "the colleague (inbox) and the outside follower (email)")

    def test_close_as_lost(self):
        self.assertSameChatter(
            self._processes("opportunity"),
            self._odoo("opportunity", self.qualified),
            lambda ours: ours.run_transition("close_as_lost", {"lost_reason_id": self.outsold.id}),
            lambda odoo: odoo.action_set_lost(lost_reason_id=self.outsold.id, expected_revenue=0),
        )

    def test_reopen_as_copy(self):
        ours = self._processes("opportunity", [("close_as_won", {"close_revenue": 7000})])
        odoo = self._odoo("opportunity", self.qualified)
        odoo.write({"expected_revenue": 7000})
        odoo.action_set_won()
        self.assertSameChatter(
            ours,
            odoo,
            lambda ours: ours.run_transition("reopen"),
            lambda odoo: odoo.copy(dict(REOPEN_VALUES, stage_id=self.qualified.id)),
            new_records=lambda ours, result: ours.current_lead_id,
        )
