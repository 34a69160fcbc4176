# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import re
from collections import Counter
from contextlib import contextmanager
from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged, warmup

from .common import SalesProcessCase

# (queries for 1 record, for 20 records) of each transition, as a sales
# manager, warm caches. Their chatter is created in one go for the batch
# (crm.lead._message_track): most transitions cost the same on 20 records as
# on one; those that create records (qualify its customers, reactivate and
# reopen their new record) pay Odoo's subscription of the followers of each
# record created or given a customer (mail.thread._message_auto_subscribe,
# two queries a record). A regression fails here before it reaches a user.
EXPECTED = {
    "start_from_lead": (31, 31),
    "start_from_opportunity": (46, 46),
    "qualify": (67, 107),
    "disqualify": (31, 31),
    "follow_up": (24, 24),
    "reactivate": (46, 84),
    "develop": (42, 42),
    "close_as_won": (32, 32),
    "close_as_lost": (30, 30),
    "reopen": (46, 84),
}
# what a transition of 20 records may cost at most per record
MAX_PER_RECORD = 3
# tables whose statements Odoo repeats once per record: the followers it
# subscribes to each record created (and, when a message notifies someone,
# that message's notification); any other statement that runs once per
# record is a search or a write in a loop
PER_MESSAGE_TABLES = re.compile(r"mail_|res_partner|bus_bus")
PATHS = {
    "qualify": [],
    "disqualify": [],
    "follow_up": [("disqualify", {})],
    "reactivate": [("disqualify", {})],
    "develop": [("qualify", {})],
    "close_as_won": [("qualify", {})],
    "close_as_lost": [("qualify", {})],
    "reopen": [("qualify", {}), ("close_as_won", {"close_revenue": 1})],
}


@tagged("post_install", "-at_install", "sales_process_performance")
class TestPerformance(SalesProcessCase):
    """Query counts of every transition on 1 and on 20 records."""

    def _values(self, code):
        return {
            "follow_up": {"note": "a note"},
            "develop": {"partner_id": self.customer.id, "budget_amount": 100, "probability": 50},
            "close_as_won": {"close_revenue": 100},
            "close_as_lost": {"lost_reason_id": self.outsold.id},
        }.get(code, {})

    def _leads(self, count, type="lead"):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Perf {i}",
                    "type": type,
                    "team_id": self.team.id,
                    "user_id": self.manager.id,
                    "partner_name": f"Perf Company {i % 3}",
                    "contact_name": f"Perf Contact {i}",
                    "email_from": f"perf{i}@example.com",
                }
                for i in range(count)
            ]
        )

    def _ready(self, code, count):
        """``count`` processes of the manager in the step ``code`` leaves from."""
        Process = self.Process.with_user(self.manager)
        processes = Process.browse(Process.start_from_lead(self._leads(count).ids))
        for transition, values in PATHS[code]:
            processes.run_transition(transition, values)
        return processes

    @contextmanager
    def assertNoQueryPerRecord(self, count):
        """Fail when a statement outside the chatter runs once per record:
        that is a search or a write in a loop."""
        statements = Counter()
        execute = Cursor.execute

        def counting(cr, query, params=None, log_exceptions=True):
            text = re.sub(r"\s+", " ", str(getattr(query, "code", query)))
            statements[text] += 1
            return execute(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", counting):
            yield
        if count < 2:
            return
        looping = {
            text: n
            for text, n in statements.items()
            if n >= count and not PER_MESSAGE_TABLES.search(text.split(" WHERE ")[0])
        }
        self.assertFalse(looping, f"statements run once per record: {looping}")

    def _measure(self, code, run):
        """Warm-up aside (see @warmup), run ``run(records)`` on 1 then on 20
        records within the expected counts and without per-record queries."""
        actual = {}
        for count, expected in zip((1, 20), EXPECTED[code], strict=False):
            records = self._prepare(code, count)
            with self.with_user("sp_manager"):
                records = records.with_env(self.env)
                before = self.cr.sql_log_count
                with self.assertQueryCount(sp_manager=expected), self.assertNoQueryPerRecord(count):
                    run(records)
                    self.env.flush_all()
                    self.env.cr.precommit.run()
                    self.env.flush_all()
                actual[count] = self.cr.sql_log_count - before
        if self.warm:
            self.assertLessEqual((actual[20] - actual[1]) / 19, MAX_PER_RECORD)

    def _prepare(self, code, count):
        if code == "start_from_lead":
            records = self._leads(count)
        elif code == "start_from_opportunity":
            records = self._leads(count, "opportunity")
        else:
            records = self._ready(code, count)
        # their creation and its chatter done before the measure starts
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        return records

    def _transition(self, code):
        self._measure(code, lambda processes: processes.run_transition(code, self._values(code)))

    @warmup
    def test_start_from_lead(self):
        self._measure("start_from_lead", lambda leads: self.env["crm.sales.process"].start_from_lead(leads.ids))

    @warmup
    def test_start_from_opportunity(self):
        self._measure(
            "start_from_opportunity",
            lambda opportunities: self.env["crm.sales.process"].start_from_opportunity(opportunities.ids),
        )

    @warmup
    def test_qualify(self):
        self._transition("qualify")

    @warmup
    def test_disqualify(self):
        self._transition("disqualify")

    @warmup
    def test_follow_up(self):
        self._transition("follow_up")

    @warmup
    def test_reactivate(self):
        self._transition("reactivate")

    @warmup
    def test_develop(self):
        self._transition("develop")

    @warmup
    def test_close_as_won(self):
        self._transition("close_as_won")

    @warmup
    def test_close_as_lost(self):
        self._transition("close_as_lost")

    @warmup
    def test_reopen(self):
        self._transition("reopen")
