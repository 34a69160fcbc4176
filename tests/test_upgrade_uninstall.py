# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Issue 5: ``-u crm_sales_process`` on a database full of processes keeps
them all; uninstalling the addon leaves every crm.lead as it was.

Upgrading or uninstalling the module under the live registry of the test
database would break the other tests: these tests work on a scratch database
of their own, created, filled, upgraded, uninstalled and dropped by Odoo's
command line in subprocesses, and read with plain SQL."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import closing

import psycopg2
from psycopg2 import sql

from odoo.sql_db import connection_info_for
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import config

MODULE = "crm_sales_process"
# Columns that any write legitimately touches.
VOLATILE_COLUMNS = ("write_date", "write_uid")
# The columns the addon adds to crm_lead: dropped by the uninstallation.
ADDON_LEAD_COLUMNS = (
    "sales_process_id",
    "sales_process_step_id",
    "sales_process_origin_id",
    "budget_amount",
    "customer_need",
    "proposed_solution",
)
# The key fields of a lead, Odoo's own (the list; every other column
# Odoo keeps is compared as well).
KEY_LEAD_COLUMNS = (
    "id",
    "name",
    "type",
    "active",
    "stage_id",
    "won_status",
    "partner_id",
    "expected_revenue",
    "probability",
    "user_id",
    "team_id",
    "lost_reason_id",
    "date_closed",
)
PROCESS_TABLES = (
    "crm_sales_process",
    "crm_sales_process_log",
    "crm_sales_process_workflow",
    "crm_sales_process_step",
    "crm_sales_process_transition",
)
STEP_CODES = {
    "new_lead",
    "disqualified_lead",
    "new_opportunity",
    "developed_opportunity",
    "won_opportunity",
    "lost_opportunity",
}
RENAMED_STEP = "UPG Fresh Lead"

# Run by ``odoo shell`` on the scratch database: a few hundred processes in
# every step, made in batches by the engine itself.
FILL_SNIPPET = r"""
N_LEADS, N_OPPS, BATCH = 300, 60, 50
Process = env["crm.sales.process"]
admin = env.ref("base.user_admin")
team = env["crm.team"].create({"name": "UPG B2B Channel", "channel_type": "b2b"})
customer = env["res.partner"].create({"name": "UPG Customer Co", "is_company": True})
outsold = env.ref("crm_sales_process.lost_reason_outsold")
# plain leads, quickly (no chatter nor followers on creation)
Lead = env["crm.lead"].with_context(
    tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
)
leads = Lead.create([
    {"name": f"UPG lead {i}", "type": "lead", "team_id": team.id, "user_id": admin.id,
     "partner_name": f"UPG Company {i % 40}", "contact_name": f"UPG Contact {i}",
     "email_from": f"contact{i}@upg.example.com", "expected_revenue": 1000 + i}
    for i in range(N_LEADS)
])
opportunities = Lead.create([
    {"name": f"UPG opportunity {i}", "type": "opportunity", "team_id": team.id,
     "user_id": admin.id, "partner_id": customer.id, "expected_revenue": 5000 + i}
    for i in range(N_OPPS)
])
lead_pids, opp_pids = [], []
for start in range(0, N_LEADS, BATCH):
    lead_pids += Process.start_from_lead(leads.ids[start:start + BATCH])
for start in range(0, N_OPPS, BATCH):
    opp_pids += Process.start_from_opportunity(opportunities.ids[start:start + BATCH])

def run(code, pids, values=None):
    for start in range(0, len(pids), BATCH):
        Process.browse(pids[start:start + BATCH]).run_transition(code, values)

g = [lead_pids[k::10] for k in range(10)]
# g[0] stays a new lead
run("disqualify", g[1], {"reason": "No budget this year"})
run("disqualify", g[2])
run("follow_up", g[2], {"note": "Call back next quarter"})
run("disqualify", g[3])
run("reactivate", g[3])
run("qualify", g[4] + g[5] + g[6] + g[7] + g[8] + g[9])
run("develop", g[5] + g[6], {"partner_id": customer.id, "budget_amount": 2500, "probability": 40,
                             "customer_need": "Chairs", "proposed_solution": "Good chairs"})
run("close_as_won", g[6] + g[7], {"close_revenue": 4200})
run("close_as_lost", g[8] + g[9], {"lost_reason_id": outsold.id})
run("reopen", g[9])
o = [opp_pids[k::3] for k in range(3)]
run("develop", o[1] + o[2], {"partner_id": customer.id})
run("close_as_won", o[2], {"close_revenue": 9000})
# an administrator's change to the default workflow, which updates must keep
env.ref("crm_sales_process.step_new_lead").name = "RENAMED_STEP"
env.cr.commit()
print("UPG FILLED", Process.search_count([]))
""".replace("RENAMED_STEP", RENAMED_STEP)

UNINSTALL_SNIPPET = r"""
module = env["ir.module.module"].search([("name", "=", "crm_sales_process")])
module.button_immediate_uninstall()
env.cr.commit()
print("UPG UNINSTALLED", module.state)
"""


@tagged("post_install", "-at_install")
class TestUpgradeUninstall(BaseCase):
    """On a scratch database with the addon and a few hundred processes in
    every step: an upgrade keeps every process, log, lead and workflow
    change; an uninstallation drops the addon's tables and columns and leaves
    every lead as it was."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scratch_db = f"{get_db_name()}_upg_{os.getpid()}"[:63]
        cls.workdir = tempfile.mkdtemp(prefix="crm_sp_upg_")
        cls.addClassCleanup(cls._drop_scratch)
        cls._odoo(
            "install",
            ["-i", MODULE, "--with-demo", "--stop-after-init"],
            timeout=300,
        )
        out = cls._odoo("fill", ["shell"], stdin=FILL_SNIPPET, timeout=300)
        if "UPG FILLED" not in out:
            raise AssertionError(f"filling the scratch database did not finish:\n{out[-3000:]}")

    @classmethod
    def _drop_scratch(cls):
        params = connection_info_for("postgres")[1]
        with closing(psycopg2.connect(**params)) as conn:
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute(f'DROP DATABASE IF EXISTS "{cls.scratch_db}" WITH (FORCE)')
        shutil.rmtree(config.filestore(cls.scratch_db), ignore_errors=True)
        shutil.rmtree(cls.workdir, ignore_errors=True)

    # -- Odoo's command line on the scratch database ---------------------

    @classmethod
    def _odoo(cls, label, args, stdin=None, timeout=180, allowed_errors=None):
        """Run ``python -m odoo`` on the scratch database with the addons path
        of this test run; fail on a non-zero exit or an ERROR/CRITICAL log
        line (but those matching ``allowed_errors``). Return its standard
        output."""
        logfile = os.path.join(cls.workdir, f"{label}.log")
        # the subcommand (shell) first, then the options, then the rest
        split = 1 if args[:1] == ["shell"] else 0
        command = [sys.executable, "-m", "odoo", *args[:split]]
        command += [
            f"--addons-path={','.join(config['addons_path'])}",
            f"--data-dir={config['data_dir']}",
            "-d",
            cls.scratch_db,
            "--no-http",
            "--log-level=warn",
            f"--logfile={logfile}",
        ]
        for key in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(key):
                command.append(f"--{key}={config[key]}")
        command += args[split:]
        try:
            result = subprocess.run(
                command,
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=cls.workdir,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"odoo {label} on {cls.scratch_db} did not end within {timeout}s\n" + cls._tail(logfile)
            ) from None
        log = cls._read(logfile)
        errors = [
            line
            for line in log.splitlines()
            if re.search(r"^\d{4}-\d\d-\d\d \S+ \d+ (ERROR|CRITICAL) ", line)
            and not (allowed_errors and re.search(allowed_errors, line))
        ]
        if result.returncode != 0 or errors:
            raise AssertionError(
                f"odoo {label} on {cls.scratch_db} exited with {result.returncode}"
                + (f", logging {len(errors)} errors" if errors else "")
                + f"\n--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"
                + f"\n--- log\n{log[-4000:]}"
            )
        cls.last_log = log
        return result.stdout

    @staticmethod
    def _read(path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    @classmethod
    def _tail(cls, path):
        return cls._read(path)[-4000:]

    # -- plain SQL snapshots of the scratch database ----------------------

    def _connect(self):
        return closing(psycopg2.connect(**connection_info_for(self.scratch_db)[1]))

    @staticmethod
    def _columns(cr, table):
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY column_name",
            [table],
        )
        return [name for (name,) in cr.fetchall() if name not in VOLATILE_COLUMNS]

    def _table(self, cr, table, columns=None):
        """{id: {column: value}} of every row of ``table``."""
        columns = columns or self._columns(cr, table)
        query = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
        )
        cr.execute(query)
        return {row[columns.index("id")]: dict(zip(columns, row, strict=False)) for row in cr.fetchall()}

    def _snapshot(self):
        with self._connect() as conn, conn.cursor() as cr:
            snapshot = {table: self._table(cr, table) for table in PROCESS_TABLES + ("crm_lead",)}
            conn.rollback()
        return snapshot

    def _module_state(self, cr):
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [MODULE])
        return cr.fetchone()[0]

    def assertRowsEqual(self, table, before, after, columns=None):
        """Same ids, same values; on failure, list the differences."""
        problems = []
        missing = sorted(set(before) - set(after))
        added = sorted(set(after) - set(before))
        if missing:
            problems.append(f"{len(missing)} rows gone: ids {missing[:20]}")
        if added:
            problems.append(f"{len(added)} rows added: ids {added[:20]}")
        changed = []
        for row_id in sorted(set(before) & set(after)):
            old, new = before[row_id], after[row_id]
            names = columns or sorted(old)
            diff = {c: (old.get(c), new.get(c)) for c in names if old.get(c) != new.get(c)}
            if diff:
                changed.append((row_id, diff))
        if changed:
            problems.append(
                f"{len(changed)} rows changed: "
                + "; ".join(
                    f"id {row_id} " + ", ".join(f"{c}: {o!r} -> {n!r}" for c, (o, n) in diff.items())
                    for row_id, diff in changed[:15]
                )
            )
        if problems:
            self.fail(f"{table} of {self.scratch_db} differs:\n" + "\n".join(problems))

    def _assert_full(self, snapshot):
        """The scratch database holds a few hundred processes, in every step."""
        processes = snapshot["crm_sales_process"].values()
        self.assertGreaterEqual(len(processes), 300)
        self.assertEqual({p["step_code"] for p in processes}, STEP_CODES)
        self.assertGreaterEqual(len(snapshot["crm_sales_process_log"]), len(processes) * 2)

    # -- the tests ---------------------------------------------------------

    def test_01_upgrade_keeps_processes(self):
        before = self._snapshot()
        self._assert_full(before)
        self._odoo("upgrade", ["-u", MODULE, "--stop-after-init"], timeout=240)
        self.assertNotRegex(
            self.last_log,
            rf" WARNING .*({MODULE}|crm\.sales\.process)",
            "the upgrade logged a warning of the addon",
        )
        after = self._snapshot()
        with self._connect() as conn, conn.cursor() as cr:
            self.assertEqual(self._module_state(cr), "installed")
        # every process, log, workflow, step and transition, every column
        for table in PROCESS_TABLES:
            self.assertRowsEqual(table, before[table], after[table])
        # every lead, the addon's columns included
        self.assertRowsEqual("crm_lead", before["crm_lead"], after["crm_lead"])
        # noupdate data: the administrator's change survives the upgrade
        renamed = [s for s in after["crm_sales_process_step"].values() if s["code"] == "new_lead"]
        self.assertEqual([s["name"]["en_US"] for s in renamed], [RENAMED_STEP])

    def test_02_uninstall_keeps_leads(self):
        before = self._snapshot()
        self._assert_full(before)
        leads_in_process = [lead for lead in before["crm_lead"].values() if lead["sales_process_id"]]
        self.assertGreaterEqual(len(leads_in_process), 300)
        # Odoo deletes the addon's records, lost reasons included, and keeps
        # those still referenced (ondelete restrict): its sql_db logs each
        # refused DELETE as an error, the only ones allowed here
        out = self._odoo(
            "uninstall",
            ["shell"],
            stdin=UNINSTALL_SNIPPET,
            timeout=240,
            allowed_errors=r" odoo\.sql_db: bad query: b'DELETE FROM ",
        )
        self.assertIn("UPG UNINSTALLED", out)
        with self._connect() as conn, conn.cursor() as cr:
            self.assertEqual(self._module_state(cr), "uninstalled")
            cr.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename LIKE 'crm\\_sales\\_process%'"
            )
            self.assertEqual(cr.fetchall(), [], "the addon's tables are dropped")
            columns = self._columns(cr, "crm_lead")
            self.assertFalse(set(ADDON_LEAD_COLUMNS) & set(columns), "the addon's columns are dropped")
            self.assertLessEqual(set(KEY_LEAD_COLUMNS), set(columns))
            after = self._table(cr, "crm_lead", columns)
            conn.rollback()
        # the same leads, with the same values in every column Odoo keeps
        self.assertEqual(len(after), len(before["crm_lead"]))
        self.assertRowsEqual("crm_lead", before["crm_lead"], after, columns)
