# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import json
import signal
import subprocess
import sys
import threading
import time

from odoo import api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import config, mute_logger

from odoo.addons.crm_sales_process.models.crm_sales_process import engine_writes

QUEUE_LOGGER = "odoo.addons.crm_sales_process.models.crm_sales_process_scoring_queue"

# A process that runs close_as_won on the given processes, commits, and is
# killed by its post-commit hook, before it counts the closings.
KILLED_AFTER_COMMIT = """
import json, os, signal, sys
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config
config.parse_config(["-d", sys.argv[1], "--addons-path", sys.argv[2], "--log-level", "warn"])
registry = Registry(sys.argv[1])
from odoo.addons.crm_sales_process.models.crm_sales_process_scoring_queue import CrmSalesProcessScoringQueue
CrmSalesProcessScoringQueue._count_after_commit = lambda self, ids: os.kill(os.getpid(), signal.SIGKILL)
with registry.cursor() as cr:
    env = api.Environment(cr, api.SUPERUSER_ID, {})
    env["crm.sales.process"].browse(json.loads(sys.argv[3])).run_transition("close_as_won", {"close_revenue": 1})
print("still alive after the commit")
"""


@tagged("post_install", "-at_install")
class TestRace(BaseCase):
    """Two users run a transition on the same process at the same moment, in
    two real transactions: exactly one succeeds, the other is refused cleanly,
    and no lead, opportunity or partner is duplicated."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.addClassCleanup(cls._cleanup)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            cls.team_id = env["crm.team"].create({"name": "SP Race Channel", "channel_type": "b2b"}).id
            leads = env["crm.lead"].create(
                [
                    {
                        "name": f"SP race {i}",
                        "type": "lead",
                        "team_id": cls.team_id,
                        "partner_name": f"SP Race Company {i}",
                        "user_id": env.ref("base.user_admin").id,
                    }
                    for i in range(4)
                ]
            )
            cls.lead_ids = leads.ids
            cls.process_ids = env["crm.sales.process"].start_from_lead(leads.ids[:3])

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            with engine_writes():
                processes = env["crm.sales.process"].search([("name", "=like", "SP race %")])
                env["crm.lead.scoring.frequency"].search([("team_id", "=", cls.team_id)]).unlink()
                leads = processes.lead_ids | env["crm.lead"].with_context(active_test=False).browse(cls.lead_ids)
                partners = leads.partner_id | leads.partner_id.parent_id
                processes.unlink()
                leads.exists().unlink()
                partners.exists().unlink()
                env["crm.team"].browse(cls.team_id).unlink()

    def _env(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {})

    def _opportunities(self, env, label):
        """Two opportunities of the race channel, removed with the class."""
        leads = env["crm.lead"].create(
            [
                {
                    "name": f"SP race {label} {i}",
                    "type": "opportunity",
                    "team_id": self.team_id,
                    "user_id": env.ref("base.user_admin").id,
                }
                for i in range(2)
            ]
        )
        self.__class__.lead_ids = self.lead_ids + leads.ids
        return leads

    def _assert_both_won_counted(self, env):
        # Odoo's smoothing 0.1 + one per won deal
        frequency = env["crm.lead.scoring.frequency"].search(
            [("team_id", "=", self.team_id), ("variable", "=", "stage_id")]
        )
        self.assertTrue(frequency)
        for won_count in frequency.mapped("won_count"):
            self.assertAlmostEqual(won_count, 2.1)

    def _state(self, process_id, company_name):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            process = env["crm.sales.process"].browse(process_id)
            return {
                "step": process.step_code,
                "logs": env["crm.sales.process.log"].search_count(
                    [("process_id", "=", process_id), ("transition_id.code", "=", "qualify")]
                ),
                "companies": env["res.partner"].search_count([("name", "=", company_name)]),
                "records": len(process.lead_ids),
            }

    @mute_logger("odoo.sql_db")
    def test_concurrent_transition_in_flight(self):
        """The second transaction finds the process locked by the first one,
        still running: refused at once, without waiting."""
        process_id = self.process_ids[0]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = self._env(cr1)["crm.sales.process"].browse(process_id)
            second = self._env(cr2)["crm.sales.process"].browse(process_id)
            self.assertEqual(second.step_code, "new_lead")  # the second transaction has begun
            self.assertIs(first.run_transition("qualify", {"company_name": "SP Race Winner 0"}), True)
            with self.assertRaises(UserError) as caught:
                second.run_transition("qualify", {"company_name": "SP Race Loser 0"})
            self.assertIn("moved on by another user", str(caught.exception))
            cr2.rollback()
            cr1.commit()
        state = self._state(process_id, "SP Race Winner 0")
        self.assertEqual(state, {"step": "new_opportunity", "logs": 1, "companies": 1, "records": 1})
        self.assertEqual(self._state(process_id, "SP Race Loser 0")["companies"], 0)

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_concurrent_transition_committed(self):
        """The first transaction has committed after the second began: the
        second hits a serialization failure, which Odoo's RPC layer retries;
        the retry sees the new step and refuses cleanly."""
        process_id = self.process_ids[1]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env2 = self._env(cr2)
            env2["crm.sales.process"].browse(process_id).step_id  # noqa: B018 -- snapshot taken
            self._env(cr1)["crm.sales.process"].browse(process_id).run_transition("disqualify", {"reason": "first"})
            cr1.commit()
            attempts = []

            def second():
                attempts.append(1)
                return (
                    env2["crm.sales.process"]
                    .browse(process_id)
                    .run_transition("qualify", {"company_name": "SP Race Loser 1"})
                )

            with self.assertRaises(UserError) as caught:
                retrying(second, env2)
            self.assertEqual(len(attempts), 2, "one serialization failure, then a clean refusal")
            self.assertIn("Disqualified Lead", str(caught.exception))
            self.assertIn("moved on", str(caught.exception))
        with self.registry.cursor() as cr:
            process = self._env(cr)["crm.sales.process"].browse(process_id)
            self.assertEqual(process.step_code, "disqualified_lead")
            self.assertEqual(len(process.log_ids), 2)
            self.assertEqual(len(process.lead_ids.with_context(active_test=False)), 1)

    @mute_logger("odoo.sql_db")
    def test_concurrent_start(self):
        """Two users start a process on the same lead: one process only."""
        lead_id = self.lead_ids[3]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1, env2 = self._env(cr1), self._env(cr2)
            env2["crm.lead"].browse(lead_id).name  # noqa: B018
            process_id = env1["crm.sales.process"].start_from_lead(lead_id)
            with self.assertRaises(UserError) as caught:
                env2["crm.sales.process"].start_from_lead(lead_id)
            self.assertIn("another user", str(caught.exception))
            cr2.rollback()
            cr1.commit()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self.assertEqual(env["crm.sales.process"].search_count([("lead_id", "=", lead_id)]), 1)
            self.assertEqual(env["crm.lead"].browse(lead_id).sales_process_id.id, process_id)

    @mute_logger("odoo.sql_db")
    def test_concurrent_closings_of_one_team(self):
        """Two users close two processes of one team at the same moment: both
        succeed (Odoo's shared lead scoring counts are updated after commit),
        and the counts include both closings."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            leads = self._opportunities(env, "close")
            first_id, second_id = env["crm.sales.process"].start_from_opportunity(leads.ids)
            self.assertFalse(
                env["crm.lead.scoring.frequency"].search_count([("team_id", "=", self.team_id), ("won_count", ">", 1)]),
                "the race channel has no won deal yet",
            )
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1, env2 = self._env(cr1), self._env(cr2)
            env2["crm.sales.process"].browse(second_id).step_id  # noqa: B018 -- both snapshots taken
            env1["crm.sales.process"].browse(first_id).run_transition("close_as_won", {"close_revenue": 1})
            env2["crm.sales.process"].browse(second_id).run_transition("close_as_won", {"close_revenue": 2})
            cr1.commit()
            cr2.commit()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            processes = env["crm.sales.process"].browse([first_id, second_id])
            self.assertEqual(set(processes.mapped("step_code")), {"won_opportunity"})
            self._assert_both_won_counted(env)

    def test_closings_counted_one_after_the_other(self):
        """Two counts of closings at the same moment (after two transitions'
        commits): the second waits for the first and adds to what it
        committed; neither fails nor loses the other's count."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            leads = self._opportunities(env, "count")
            env["crm.lead.scoring.frequency"].search([("team_id", "=", self.team_id)]).unlink()
            first, second = (
                env["crm.sales.process.scoring.queue"].create({"lead_ids": [lead.id], "to_state": "won"}).id
                for lead in leads
            )
        outcome = {}

        def count_second():
            with self.registry.cursor() as cr:
                queue = self._env(cr)["crm.sales.process.scoring.queue"]
                outcome["started"] = True
                with self.assertNoLogs(QUEUE_LOGGER, "INFO"):
                    queue._count_after_commit([second])
                outcome["done"] = True

        with self.registry.cursor() as cr1:
            self._env(cr1)["crm.sales.process.scoring.queue"]._count([first])
            thread = threading.Thread(target=count_second)
            thread.start()
            time.sleep(1)
            self.assertTrue(outcome.get("started"))
            self.assertFalse(outcome.get("done"), "the second count waits for the first")
        thread.join(60)
        self.assertTrue(outcome.get("done"))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self._assert_both_won_counted(env)
            self.assertFalse(
                env["crm.sales.process.scoring.queue"].browse([first, second]).exists(),
                "counted once: out of the queue",
            )
            env["crm.lead.scoring.frequency"].search([("team_id", "=", self.team_id)]).unlink()

    def test_count_survives_a_kill_between_commit_and_count(self):
        """The process that runs a transition is killed (SIGKILL) right after
        its commit, before it counts the closings in Odoo's lead scoring:
        they wait in the queue, and the queue's cron counts them, once."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            leads = self._opportunities(env, "kill")
            process_ids = env["crm.sales.process"].start_from_opportunity(leads.ids)
            env["crm.lead.scoring.frequency"].search([("team_id", "=", self.team_id)]).unlink()
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                KILLED_AFTER_COMMIT,
                get_db_name(),
                ",".join(config["addons_path"]),
                json.dumps(process_ids),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.assertEqual(child.returncode, -signal.SIGKILL, f"killed after its commit: {child.stdout}{child.stderr}")
        with self.registry.cursor() as cr:
            env = self._env(cr)
            processes = env["crm.sales.process"].browse(process_ids)
            self.assertEqual(set(processes.mapped("step_code")), {"won_opportunity"}, "the transition committed")
            queued = env["crm.sales.process.scoring.queue"].search([])
            self.assertEqual(sorted(i for row in queued for i in row.lead_ids if i in leads.ids), sorted(leads.ids))
            self.assertFalse(
                env["crm.lead.scoring.frequency"].search_count([("team_id", "=", self.team_id)]),
                "not counted yet",
            )
            cron = env.ref("crm_sales_process.ir_cron_sales_process_scoring_queue")
            cron.method_direct_trigger()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self._assert_both_won_counted(env)
            self.assertFalse(env["crm.sales.process.scoring.queue"].search_count([]), "the queue is empty")
            env["crm.sales.process.scoring.queue"]._count()  # a second run counts nothing twice
            self._assert_both_won_counted(env)
            env["crm.lead.scoring.frequency"].search([("team_id", "=", self.team_id)]).unlink()

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_edit_racing_a_transition(self):
        """A user edits the lead while a transition closes it: the edit, made
        from an older snapshot, fails to serialize, and its retry is refused
        because the lead is now in a read-only step."""
        process_id = self.process_ids[2]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env2 = self._env(cr2)
            lead = env2["crm.sales.process"].browse(process_id).lead_id
            self.assertTrue(lead.active)  # snapshot taken, lead still open
            self._env(cr1)["crm.sales.process"].browse(process_id).run_transition("disqualify")
            cr1.commit()
            attempts = []

            def edit():
                attempts.append(1)
                env2["crm.lead"].browse(lead.id).write({"name": "edited"})
                env2.flush_all()

            with self.assertRaises(UserError) as caught:
                retrying(edit, env2)
            self.assertEqual(len(attempts), 2)
            self.assertIn("Disqualified Lead", str(caught.exception))
        with self.registry.cursor() as cr:
            lead = self._env(cr)["crm.sales.process"].browse(process_id).lead_id
            self.assertNotEqual(lead.name, "edited")
