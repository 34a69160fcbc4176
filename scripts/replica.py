#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The analysis served by a PostgreSQL read replica while the transitions
run on the primary. bin/replica runs it on a scratch database of the
embedded PostgreSQL (the primary):

1. a history for the analysis to read (bin/benchmark's: processes made by
   the engine, four more log lines each by SQL over the last twelve months,
   folded into the summary as the daily cron does);
2. a streaming replica of the primary, a hot standby (pg_basebackup -R, a
   replication slot, its own data folder, socket and port: bin/devenv's
   postgres.py);
3. a prefork Odoo with --db_replica_host/--db_replica_port (Odoo then runs
   a request whose method is marked @api.readonly on the replica);
4. for --seconds: salesmen's web clients (JSON-RPC, as the web client
   calls: bin/load's clients and plan) running transitions; managers' web
   clients reading the analysis as its screens do (pivots, funnel, Time in
   Step, journeys, the process kanban filtered on Stuck, a process form);
   a probe that runs a transition in a channel of its own and asks the
   funnel (on the replica) until it shows it: the lag the clients see; the
   lead scoring queue and the summary fold crons made due (they write: on
   the primary); at --fault-after, the replica stopped for --fault-seconds;
5. the report: per database server, the transactions (pg_stat_database) and
   the statements and their time (pg_stat_statements) it served during the
   run; per request, which server answered (Odoo logs the cursor mode of
   each request when it has a replica: ro, rw, ro->rw); the lag; errors and
   HTTP 500s; the fault; bin/load's audit.

Goal: every analysis request answered by the replica (outside the fault),
no transition there, 0 errors, the audit OK; the fault: nothing lost, the
analysis answered again without restarting Odoo. Exit 1 otherwise.
"""

import argparse
import collections
import contextlib
import os
import re
import sys
import threading
import time
import xmlrpc.client
from pathlib import Path

import load
import psycopg2
import requests
import servers
from audit import Expected, audit, connect, log_time, timed, xmlid
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bin" / "devenv"))
import postgres  # bin/devenv is no package

TRANSITIONS = {"start_from_lead", "start_from_opportunity", "run_transition"}
CRONS = {
    ("crm_sales_process", "ir_cron_sales_process_scoring_queue"): "scoring queue",
    ("crm_sales_process", "ir_cron_sales_process_log_summary"): "summary fold",
}
# a statement reading the analysis: a query of the report views or the
# summary (not the fold's, which writes it)
ANALYSIS_SQL = (
    r"query ~ 'crm_sales_process_(report|step_time_report|journey_report|visit_report|log_summary)\M'"
    r" AND query !~* '\m(INSERT|UPDATE|DELETE)\M'"
)
# a request as Odoo logs it with a replica: "... werkzeug: ... "POST /path
# HTTP/1.1" 200 - <queries> <query time> <other time> <cursor mode>"
REQUEST = re.compile(
    r'^(\S+ \S+) (\d+) INFO \S+ werkzeug: .*"POST (/web/dataset/call_kw/\S+) [^"]*" (\d{3}) - (\d+) \S+ \S+ (\S+)'
)
GRACE = 5.0  # seconds after the fault in which a failure is counted in it


# -- the web client's calls -------------------------------------------------------


def connect_web(url, db, login, password, timeout=180):
    """Log in as the web client does (/web/session/authenticate: a session
    cookie), then call as it does (/web/dataset/call_kw/<model>/<method>:
    Odoo runs a method marked @api.readonly on the replica). Errors are
    raised as xmlrpc.client raises them, so that audit.timed() classifies
    them as bin/load's: a UserError or ValidationError as a Fault of code
    2, an AccessError of code 4, with their message; any other error as
    code 1 with its traceback; an HTTP status other than 200 as a
    ProtocolError. One try per call (requests does not send it again)."""
    session = requests.Session()

    def post(path, params):
        response = session.post(
            f"{url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=timeout
        )
        if response.status_code != 200:
            raise xmlrpc.client.ProtocolError(f"{url}{path}", response.status_code, response.reason, {})
        body = response.json()
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            name = data.get("name", "")
            if name.endswith(("UserError", "ValidationError", "MissingError", "RedirectWarning")):
                raise xmlrpc.client.Fault(2, data.get("message", ""))
            if name.endswith("AccessError"):
                raise xmlrpc.client.Fault(4, data.get("message", ""))
            raise xmlrpc.client.Fault(1, data.get("debug") or error.get("message", ""))
        return body.get("result")

    session_info = post("/web/session/authenticate", {"db": db, "login": login, "password": password})
    if not (session_info or {}).get("uid"):
        raise RuntimeError(f"cannot log in as {login} on {db} at {url}")

    def call(model, method, *params, **kwargs):
        return post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(params), "kwargs": kwargs},
        )

    call.uid, call.url = session_info["uid"], url
    return call


class Salesman(load.Client):
    """bin/load's client (its plan, its invalid calls, what it expects),
    through the web client's JSON-RPC: each request opens its first cursor
    on the replica (Odoo checks the registry there), and a transition,
    not read-only, then runs on the primary."""

    connect = staticmethod(connect_web)


def specification(fields):
    return {
        name: {"fields": {"display_name": {}}} if field["type"] == "many2one" else {} for name, field in fields.items()
    }


def screens(call):
    """The calls the web client makes to show each screen a manager opens,
    built from the screens' views (their rows, columns, measures, fields):
    (title, model, method, args, kwargs)."""
    year_ago = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 365 * 86400))
    found = []
    for title, model, date in (
        ("Analysis", "crm.sales.process.report", "date"),
        ("Time in Step", "crm.sales.process.step.time.report", "date_left"),
        ("Journeys", "crm.sales.process.journey.report", "date_start"),
    ):
        views = call(model, "get_views", [[False, "pivot"], [False, "graph"]])
        fields = views["models"][model]["fields"]
        domain = [(date, ">=", year_ago)]  # the default filter: trailing 12 months
        for kind in ("pivot", "graph"):
            arch = etree.fromstring(views["views"][kind]["arch"])
            by = {"row": [], "col": [], "measure": []}
            for node in arch.iterfind("field"):
                name, interval = node.get("name"), node.get("interval")
                spec = f"{name}:{fields[name]['aggregator']}" if node.get("type") == "measure" else name
                by[node.get("type") if node.get("type") in by else "row"].append(
                    f"{spec}:{interval}" if interval else spec
                )
            if kind == "pivot":
                sets = [by["row"] + by["col"], by["row"], by["col"], []]
                found.append(
                    (
                        f"{title} pivot",
                        model,
                        "formatted_read_grouping_sets",
                        [domain, sets, ["__count", *by["measure"]]],
                        {},
                    )
                )
            else:
                found.append(
                    (
                        f"{title} graph",
                        model,
                        "formatted_read_group",
                        [domain, by["row"], by["measure"] or ["__count"]],
                        {},
                    )
                )
        if model == "crm.sales.process.report":
            found.append(("Analysis funnel", model, "get_funnel_data", [domain], {}))
    Process = "crm.sales.process"
    views = call(Process, "get_views", [[False, "kanban"], [False, "form"]])
    fields = views["models"][Process]["fields"]
    kanban = {node.get("name") for node in etree.fromstring(views["views"]["kanban"]["arch"]).iter("field")}
    found.append(
        (
            "Process kanban, Stuck",
            Process,
            "web_read_group",
            [[("is_stuck", "=", True)], ["step_id"], ["__count"]],
            {"auto_unfold": True, "unfold_read_specification": specification({n: fields[n] for n in kanban})},
        )
    )
    latest = call(Process, "search", [], limit=5, order="id desc")
    found.append(("Process form", Process, "web_read", [latest[:1], specification(fields)], {}))
    return found


class Manager(threading.Thread):
    """Opens the screens in turn, as fast as they answer, until the deadline."""

    def __init__(self, args, ctx, number, login, url):
        super().__init__(name=f"manager-{number}")
        self.args, self.ctx, self.number, self.login, self.url = args, ctx, number, login, url
        self.calls = []

    def run(self):
        try:
            call = connect_web(self.url, self.args.db, self.login, self.login, self.args.timeout)
            shown = screens(call)
        except Exception as error:  # noqa: BLE001 -- reported as an error of the run
            self.calls.append(self.record("log in and views", "other", repr(error), 0, time.time(), time.time()))
            return
        turn = self.number
        while time.monotonic() < self.ctx.deadline:
            title, model, method, params, kwargs = shown[turn % len(shown)]
            outcome, message, ms, __, start, end = timed(
                lambda model=model, method=method, params=params, kwargs=kwargs: call(model, method, *params, **kwargs)
            )
            self.calls.append(self.record(title, outcome, message, ms, start, end))
            turn += 1

    def record(self, title, outcome, message, ms, start, end):
        return {"screen": title, "outcome": outcome, "message": message, "ms": ms, "start": start, "end": end}


class Probe(threading.Thread):
    """The lag the clients see: every --probe-every seconds, a process
    started in a channel of the probe's own (on the primary), then the
    funnel of that channel asked (on the replica) until it counts it: the
    time from the start's answer to the first funnel answer showing it, and
    how many funnel requests that took."""

    def __init__(self, args, ctx, admin, manager_login):
        super().__init__(name="probe")
        self.args, self.ctx, self.admin, self.manager_login = args, ctx, admin, manager_login
        self.team = admin("crm.team", "create", {"name": f"Lag probe {ctx.tag}", "channel_type": "b2b"})
        self.samples = []  # (committed at, seconds until shown or None, funnel requests)
        self.errors = []

    def run(self):
        funnel = connect_web(self.args.url, self.args.db, self.manager_login, self.manager_login, self.args.timeout)
        domain = [("team_id", "=", self.team)]
        while time.monotonic() < self.ctx.deadline - 5:
            started = time.monotonic()
            outcome, message, __, lead, *__ = timed(
                lambda: self.admin("crm.lead", "create", {"name": "Lag probe", "type": "lead", "team_id": self.team})
            )
            if outcome == "ok":
                outcome, message, __, __, __, committed = timed(
                    lambda: self.admin("crm.sales.process", "start_from_lead", lead, {})  # noqa: B023
                )
            if outcome != "ok":
                self.errors.append(f"probe transition: {outcome}: {message[:200]}")
            else:
                self.samples.append(self.wait_shown(funnel, domain, committed))
            time.sleep(max(0.0, started + self.args.probe_every - time.monotonic()))

    def wait_shown(self, funnel, domain, committed):
        expected = len(self.samples) + 1
        requests_made = 0
        while time.time() < committed + 30 and not self.ctx.stopped.is_set():
            outcome, message, __, funnels, __, answered = timed(
                lambda: funnel("crm.sales.process.report", "get_funnel_data", domain)
            )
            requests_made += 1
            if outcome != "ok":
                self.errors.append(f"probe funnel: {outcome}: {message[:200]}")
            elif funnels and funnels[0]["bars"][0]["reach"] >= expected:
                return committed, answered - committed, requests_made
        return committed, None, requests_made


# -- the database servers -------------------------------------------------------------


def server_sql(host, port, db, query, params=None):
    connection = psycopg2.connect(dbname=db, host=host, port=port, user="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()
    finally:
        connection.close()


def server_stats(host, port, db, role):
    """What the server has served the database: transactions (commits and
    rollbacks), and the statements of Odoo's role, those reading the
    analysis apart, with their execution time (ms)."""
    transactions = server_sql(
        host, port, db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", [db]
    )[0][0]
    calls, ms, analysis_calls, analysis_ms = server_sql(
        host,
        port,
        db,
        """
        SELECT COALESCE(sum(calls), 0)::bigint, COALESCE(sum(total_exec_time), 0),
               COALESCE(sum(calls) FILTER (WHERE %(reads)s), 0)::bigint,
               COALESCE(sum(total_exec_time) FILTER (WHERE %(reads)s), 0)
          FROM pg_stat_statements s
          JOIN pg_database d ON d.oid = s.dbid
          JOIN pg_roles r ON r.oid = s.userid
         WHERE d.datname = %(db)s AND r.rolname = %(role)s
        """,
        {"reads": psycopg2.extensions.AsIs(ANALYSIS_SQL), "db": db, "role": role},
    )[0]
    return {
        "transactions": transactions,
        "statements": calls,
        "ms": ms,
        "analysis": analysis_calls,
        "analysis_ms": analysis_ms,
    }


def caught_up(places, timeout=120):
    """Wait until the replica has replayed all the primary has written."""
    target = server_sql(*places["primary"], "postgres", "SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_sql(*places["replica"], "postgres", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0]:
            return True
        time.sleep(0.2)
    return False


class ReplicationLag(threading.Thread):
    """The primary's own view, every half second: how far behind its
    replica's replay is (pg_stat_replication.replay_lag and bytes)."""

    def __init__(self, primary, slot, ctx):
        super().__init__(name="replication-lag", daemon=True)
        self.primary, self.slot, self.ctx = primary, slot, ctx
        self.samples = []  # (time, replay lag in seconds or None, bytes behind or None)

    def run(self):
        while time.monotonic() < self.ctx.deadline:
            with contextlib.suppress(psycopg2.Error):
                rows = server_sql(
                    *self.primary,
                    "postgres",
                    """
                    SELECT extract(epoch FROM r.replay_lag)::float,
                           pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float
                      FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid
                     WHERE s.slot_name = %s
                    """,
                    [self.slot],
                )
                self.samples.append((time.time(), *(rows[0] if rows else (None, None))))
            time.sleep(0.5)


# -- the run --------------------------------------------------------------------------

Request = collections.namedtuple("Request", "at worker method status queries mode")


def requests_logged(log):
    """Odoo's log line of each JSON-RPC request (call_kw): when it ended,
    the worker, the method, the HTTP status, its SQL statements, its cursor
    mode (ro: the replica; rw: the primary; ro->rw: begun on the replica,
    run again on the primary)."""
    found = []
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = REQUEST.match(line)
            if match:
                stamp, pid, path, status, queries, mode = match.groups()
                # Odoo adds "#<model>.<method>" to the path it logs
                method = path.rpartition("#")[2].rpartition(".")[2]
                found.append(Request(log_time(stamp), int(pid), method, status, int(queries), mode))
    return found


def reads(requests_seen):
    """The managers' requests (and the probe's funnel): all but the salesmen's."""
    return [r for r in requests_seen if r.method not in TRANSITIONS and r.method != "create"]


def phase(at, fault):
    if not fault:
        return "the run"
    start, end = fault
    if at < start:
        return "before the fault"
    return "during the fault" if at <= end + GRACE else "after the fault"


def percentile(values, p):
    return load.percentile(values, p) if values else float("nan")


def setup_managers(args, admin, tag):
    """Sales managers with a password, to log in as the web client does;
    one more for the probe."""
    group = xmlid(admin, ("sales_team", "group_sale_manager"), "res.groups")
    logins = [f"manager_{tag}_{n}" for n in range(args.managers + 1)]
    admin(
        "res.users",
        "create",
        [
            {"name": f"Replica Manager {n}", "login": login, "password": login, "group_ids": [(6, 0, [group])]}
            for n, login in enumerate(logins)
        ],
    )
    return logins[:-1], logins[-1]


def cron_worker_ready(log, timeout=180):
    """Wait until the cron worker has run its first round of jobs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "odoo.addons.base.models.ir_cron: Job '" in Path(log).read_text(errors="replace"):
            return True
        time.sleep(1)
    return False


def make_due(admin, crons):
    """The crons due now: the cron worker, woken by the change, runs them
    (on the primary: a cron's cursor is never read-only)."""
    admin("ir.cron", "write", list(crons), {"nextcall": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})


def build_history(args):
    """bin/benchmark's history: --history processes by the engine, four more
    log lines each by SQL over the past year, folded as the daily cron does."""
    # only this step runs Odoo in this process
    from benchmark import Bench

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn", "--http-interface", "127.0.0.1"]
    )
    with Registry(args.db).cursor() as cr:
        bench = Bench(api.Environment(cr, api.SUPERUSER_ID, {}))
        cr.commit()
        bench.populate(args.history)
        bench.history()
        bench.fold()
        cr.commit()
    odoo.sql_db.close_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--logdir", default=".")
    parser.add_argument("--owner", type=int, default=os.getpid(), help="names the replication slot (bin/replica's pid)")
    parser.add_argument("--history", type=int, default=5000, help="processes of the history (5 log lines each)")
    parser.add_argument("--salesmen", type=int, default=4)
    parser.add_argument("--managers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120, help="length of the run")
    parser.add_argument("--fault-after", type=float, default=60, help="seconds into the run; 0: no fault")
    parser.add_argument("--fault-seconds", type=float, default=10, help="how long the replica stays stopped")
    parser.add_argument("--probe-every", type=float, default=2.0, help="seconds between two lag probes")
    parser.add_argument("--timeout", type=float, default=60, help="of each client call, in seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.fault_after and not 0 < args.fault_after < args.seconds - args.fault_seconds - 10:
        parser.error("--fault-after must leave the replica stopped, then 10 s more, within --seconds")
    if min(args.salesmen, args.managers, args.workers) < 1:
        parser.error("--salesmen, --managers and --workers must be at least 1")
    if os.environ.get("CSP_PG") != "embedded":
        parser.error("bin/replica makes a replica of the embedded PostgreSQL: unset the PG* settings and ODOO_RC")
    if "pg_stat_statements" not in postgres.primary_sql("SHOW shared_preload_libraries")[0][0]:
        # a server started by an older checkout: restarted, unless other commands use it
        others = [owner for owner in postgres.live_owners() if owner.name != str(args.owner)]
        if others:
            parser.error(
                "the embedded PostgreSQL runs without pg_stat_statements (started before it was loaded) and "
                f"{len(others)} other command(s) use it: stop them, then run bin/replica again"
            )
        print("PostgreSQL: restarting the embedded server, to load pg_stat_statements...", flush=True)
        postgres.restart()
    postgres.primary_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", dbname=args.db)
    # what Odoo runs in this database is counted (the server counts nothing by
    # default); its commits wait for the disk, as on a production server (the
    # embedded one does not wait: its WAL, which the replica streams, would
    # leave up to 200 ms late, wal_writer_delay)
    postgres.primary_sql(f"ALTER DATABASE {args.db} SET pg_stat_statements.track = top")
    postgres.primary_sql(f"ALTER DATABASE {args.db} SET synchronous_commit = on")

    began = time.monotonic()
    print(f"History: {args.history} processes, 5 log lines each, folded into the summary...", flush=True)
    build_history(args)
    print(f"  built in {time.monotonic() - began:.0f} s", flush=True)
    replica = postgres.start_replica(args.owner)
    try:
        return run(args, replica)
    finally:
        postgres.stop_replica(args.owner)


def run(args, replica):
    role = os.environ.get("PGUSER") or postgres.ROLE
    places = {"primary": (str(postgres.socket_dir()), postgres.PORT), "replica": (replica["PGHOST"], replica["PGPORT"])}
    if not caught_up(places):
        print("error: the replica did not catch up with the primary within 120 s", file=sys.stderr)
        return 1

    def stats(*names):
        return {name: server_stats(*places[name], args.db, role) for name in names}

    os.environ["ODOO_NOTIFY_CRON_CHANGES"] = "1"  # the cron worker wakes when a cron becomes due
    server = servers.OdooServer(
        "replica",
        args.db,
        args.addons_path,
        args.logdir,
        workers=args.workers,
        cron_threads=1,
        log_handlers=("werkzeug:INFO",),
        preload=False,  # as docs/operations.md runs a team's server: --db-filter only
        options=(f"--db_replica_host={replica['PGHOST']}", f"--db_replica_port={replica['PGPORT']}"),
    )
    print(
        f"Primary: the embedded PostgreSQL ({places['primary'][0]}, port {places['primary'][1]}); replica: a hot "
        f"standby of it ({places['replica'][0]}, port {places['replica'][1]}, slot {replica['slot']})",
        flush=True,
    )
    with servers.running([server]):
        args.url = server.url
        admin = connect(server.url, args.db, "admin", "admin", args.timeout)
        largs = argparse.Namespace(
            db=args.db,
            admin_password="admin",
            clients=args.salesmen,
            processes=10000,  # cut by the deadline
            seed=args.seed,
            timeout=args.timeout,
            max_seconds=args.seconds,
            tick=30,
        )
        ctx, logins = load.setup(largs, admin)
        load.enrichment_on_demand(admin)
        managers, probe_login = setup_managers(args, admin, ctx.tag)
        crons = {xmlid(admin, ref, "ir.cron"): name for ref, name in CRONS.items()}
        load.warm_up(largs, [server.url])
        # the cron worker (niced) loads the registry in its own time: its first
        # round done, it wakes when a cron is made due
        if not cron_worker_ready(server.log):
            print("  note: the cron worker has run no job yet; the crons' check may find none", flush=True)
        # each thread its own XML-RPC connection (a ServerProxy serves one call at a time)
        probe = Probe(args, ctx, connect(server.url, args.db, "admin", "admin", args.timeout), probe_login)
        caught_up(places)
        snapshots = {"start": stats("primary", "replica")}
        fault, threads, crons_due, side_errors = [], [], [], []
        ctx.stopped = threading.Event()  # Ctrl-C: every thread of the run ends at once

        def during(begin):
            threads.extend(Manager(args, ctx, n, login, server.url) for n, login in enumerate(managers))
            threads.extend([probe, ReplicationLag(places["primary"], replica["slot"], ctx)])
            for thread in threads:
                thread.start()
            try:
                crons_and_fault(begin)
            except Exception as error:  # noqa: BLE001 -- a problem of the run, reported with the others
                side_errors.append(f"the crons or the fault did not happen as planned: {error!r}")
            for thread in threads:
                thread.join()

        def crons_and_fault(begin):
            if not ctx.stopped.wait(max(0.0, begin + args.seconds / 3 - time.monotonic())):
                crons_due.append(time.time())
                make_due(connect(server.url, args.db, "admin", "admin", args.timeout), crons)
                say(begin, "the lead scoring queue and the summary fold crons made due")
            if args.fault_after and not ctx.stopped.wait(max(0.0, begin + args.fault_after - time.monotonic())):
                snapshots["fault"] = stats("primary", "replica")
                say(begin, f"stopping the replica (pg_ctl stop -m fast) for {args.fault_seconds:g} s")
                stopping = time.time()
                postgres.pause_replica()
                if not ctx.stopped.wait(max(0.0, stopping + args.fault_seconds - time.time())):
                    postgres.resume_replica()
                    fault.append((stopping, time.time()))
                    snapshots["resumed"] = stats("replica")
                    say(begin, f"the replica is back ({fault[0][1] - fault[0][0]:.1f} s away)")

        print(
            f"Run: {args.salesmen} salesmen and {args.managers} managers (web clients) on {server}, {args.seconds:g} s"
            + (f"; the replica stopped {args.fault_seconds:g} s at {args.fault_after:g} s" if args.fault_after else ""),
            flush=True,
        )
        try:
            clients, wall = load.run_clients(largs, ctx, logins, [server.url], during=during, client_class=Salesman)
        except BaseException:
            ctx.deadline = 0  # the clients end at their next call
            ctx.stopped.set()
            raise
        caught_up(places)
        snapshots["end"] = stats("primary", "replica")
        fault = fault[0] if fault else None
        print("\n== salesmen (transitions, bin/load's clients through the web client's JSON-RPC)")
        errors, __ = load.summarize(largs, ctx, clients, wall, [server.log], [fault] if fault else [])
        problems = [f"{len(found)} x {kind}" for kind, found in errors.items() if found]
        requests_seen = requests_logged(server.log)
        managers = [c for t in threads if isinstance(t, Manager) for c in t.calls]
        problems += report_managers(managers, requests_seen, fault)
        problems += report_servers(snapshots)
        problems += report_lag(probe, threads, fault)
        problems += side_errors
        problems += report_crons(server.log, crons, crons_due)
        if args.fault_after and not fault:
            problems.append("the replica was not stopped: no fault case")
        if fault:
            problems += report_fault(managers, clients, requests_seen, fault, server)
        print("\n== audit")
        expected = Expected.merge(client.expected for client in clients)
        audit_problems, lines, __ = audit(admin, ctx.team, ctx.workflow, expected, f"Load {ctx.tag} c")
        print("\n".join(lines))
        problems += audit_problems
    print("\nresult: " + ("PASSED" if not problems else f"FAILED: {'; '.join(problems[:10])}"))
    return 1 if problems else 0


def say(begin, what):
    print(f"  ... {time.monotonic() - begin:.0f} s: {what}", flush=True)


def report_managers(calls, requests_seen, fault):
    """The managers' requests: answered or not, how fast, by which server."""
    print("\n== managers (the analysis: each screen's calls, in turn)")
    problems = []
    calm = [c for c in calls if "during the fault" not in (phase(c["start"], fault), phase(c["end"], fault))]
    for screen in sorted({c["screen"] for c in calls}):
        mine = [c for c in calm if c["screen"] == screen]
        ok = [c["ms"] for c in mine if c["outcome"] == "ok"]
        print(
            f"  {screen:<24} {len(ok):>5} answered, {len(mine) - len(ok)} failed"
            + (" (outside the fault)" if fault else "")
            + f"; p50 {percentile(ok, 50):.0f} ms, p95 {percentile(ok, 95):.0f} ms"
        )
        failed = [c for c in mine if c["outcome"] != "ok"]
        if failed:
            problems.append(f"{len(failed)} {screen} requests failed" + (" outside the fault" if fault else ""))
            print(f"    - {failed[0]['outcome']}: {failed[0]['message'][:300]}")
    print("  answered by (Odoo's log: ro = the replica, rw = the primary, ro->rw = begun there, run again here):")
    for name in ("before the fault", "during the fault", "after the fault") if fault else ("the run",):
        mine = [r for r in reads(requests_seen) if phase(r.at, fault) == name]
        modes = collections.Counter(r.mode for r in mine)
        queries = collections.Counter()
        for r in mine:
            queries[r.mode] += r.queries
        total = sum(queries.values()) or 1
        print(
            f"    {name}: {len(mine)} requests: "
            + ", ".join(f"{mode} {n}" for mode, n in sorted(modes.items()))
            + "; their SQL statements: "
            + ", ".join(f"{mode} {n} ({100 * n / total:.1f}%)" for mode, n in sorted(queries.items()))
        )
        if name in ("the run", "before the fault") and set(modes) != {"ro"}:
            problems.append(f"analysis requests {name} not all answered by the replica: {dict(modes)}")
    transitions = [r for r in requests_seen if r.method in TRANSITIONS]
    modes = collections.Counter(r.mode for r in transitions)
    print(
        f"  the salesmen's {len(transitions)} transition requests: "
        + ", ".join(f"{mode} {n}" for mode, n in sorted(modes.items()))
        + " (a request opens its first cursor on the replica, where Odoo checks its registry; "
        "a transition, not read-only, then runs on the primary)"
    )
    if set(modes) - {"rw"}:
        problems.append(f"transition requests on the replica: {dict(modes)}")
    http500 = sum(r.status == "500" for r in requests_seen)
    print(f"  HTTP 500 in Odoo's log: {http500}")
    if http500:
        problems.append(f"{http500} HTTP 500")
    return problems


def report_servers(snapshots):
    """What each server served: the run up to the fault (the whole run
    without one), then from the fault to the end (the replica: from its
    restart on)."""
    print("\n== database servers (pg_stat_database; pg_stat_statements, Odoo's statements only)")
    problems = []
    periods = [
        ("the run, up to the fault", "start", "fault", "start"),
        ("from the fault on", "fault", "end", "resumed"),
    ]
    if "fault" not in snapshots:
        periods = [("the run", "start", "end", "start")]
    for title, begin, end, replica_begin in periods:
        delta = {
            name: {key: snapshots[end][name][key] - snapshots[since][name][key] for key in snapshots[end][name]}
            for name, since in (("primary", begin), ("replica", replica_begin))
        }
        print(f"  {title}:")
        for name, d in delta.items():
            print(
                f"    {name:<8} transactions {d['transactions']:>6}; statements {d['statements']:>7} "
                f"({d['ms'] / 1000:.1f} s of execution), of which reading the analysis {d['analysis']:>5} "
                f"({d['analysis_ms'] / 1000:.1f} s)"
            )

        def share(key, delta=delta):
            total = delta["primary"][key] + delta["replica"][key]
            return f"{100 * delta['replica'][key] / total:.1f}%" if total else "-"

        print(
            f"    the replica's share: statements reading the analysis {share('analysis')} "
            f"({share('analysis_ms')} of their time); all statements {share('statements')} "
            f"({share('ms')} of the execution time); transactions {share('transactions')}"
        )
        if begin == "start" and delta["primary"]["analysis"]:
            problems.append(f"the primary ran {delta['primary']['analysis']} statements reading the analysis")
    return problems


def report_lag(probe, threads, fault):
    print("\n== replica lag")
    calm = [s for s in probe.samples if phase(s[0], fault) != "during the fault"]
    seen = [s[1] for s in calm if s[1] is not None]
    print(
        f"  seen by the clients: {len(calm)} transitions probed"
        + (" (outside the fault)" if fault else "")
        + f"; the funnel (on the replica) showed {len(seen)}, "
        f"{sum(s[2] == 1 for s in calm if s[1] is not None)} of them at the first request sent after the commit's "
        f"answer; from the commit's answer to the funnel's answer showing it: p50 {1000 * percentile(seen, 50):.0f} "
        f"ms, p95 {1000 * percentile(seen, 95):.0f} ms, max {1000 * max(seen, default=float('nan')):.0f} ms"
    )
    samples = [s for t in threads if isinstance(t, ReplicationLag) for s in t.samples]
    lags = [lag for __, lag, __ in samples if lag is not None]
    behind = [size for __, __, size in samples if size is not None]
    print(
        f"  the primary's view (pg_stat_replication, every 0.5 s): replay lag p50 "
        f"{1000 * percentile(lags, 50):.1f} ms, max {1000 * max(lags, default=float('nan')):.1f} ms; "
        f"WAL not replayed yet: max {max(behind, default=0) / 1024:.0f} kB"
    )
    for error in probe.errors[:3]:
        print(f"    - {error}")
    problems = ["no lag probe ran"] if not calm else []
    if len(seen) < len(calm):
        problems.append(f"{len(calm) - len(seen)} probed transitions not shown by the funnel within 30 s")
    return problems


def report_crons(log, crons, due):
    """The runs of the crons after they were made due, from Odoo's log."""
    print("\n== crons (they write: a cron's cursor is never read-only, they run on the primary)")
    if not due:
        return ["the crons were not made due"]
    problems = []
    with open(log, encoding="utf-8", errors="replace") as handle:
        lines = [line for line in handle if line[:4].isdigit() and log_time(line) >= due[0]]
    for cron_id, name in crons.items():
        runs = [m.group(1) for line in lines if (m := re.search(rf"Job '[^']*' \({cron_id}\) ([a-z ]+) \(#", line))]
        print(f"  {name}: made due during the run; its runs since: {', '.join(runs) or 'none'}")
        if not runs or "failed" in runs:
            problems.append(f"the {name} cron did not run fully once made due")
    return problems


def report_fault(calls, clients, requests_seen, fault, server):
    start, end = fault
    stopped = time.strftime("%H:%M:%S", time.localtime(start))
    print(f"\n== the fault: the replica stopped at {stopped}, back {end - start:.1f} s later")
    problems = []
    for name in ("during the fault", "after the fault"):
        mine = [c for c in calls if name in (phase(c["start"], fault), phase(c["end"], fault))]
        failed = collections.Counter(c["message"][:160] for c in mine if c["outcome"] != "ok")
        print(
            f"  managers' requests {name}: {len(mine)}, {len(mine) - failed.total()} answered, {failed.total()} failed"
        )
        for message, count in failed.most_common(5):
            print(f"    {count} x {message}")
        if name == "after the fault" and failed:
            problems.append(f"{failed.total()} managers' requests failed after the replica came back")
    after = [r for r in reads(requests_seen) if phase(r.at, fault) == "after the fault"]
    back = [r for r in after if r.mode == "ro"]
    print(
        f"  after it, analysis requests answered by the replica again: {len(back)} of {len(after)}, the others by "
        "the primary: a worker that failed to reach the replica uses the primary for 20 minutes "
        "(Odoo's _REPLICA_RETRY_TIME), then the replica again; no restart"
    )
    salesmen = [c for cl in clients for c in cl.calls if c["start"] <= end + GRACE and c["end"] >= start]
    failed = [c for c in salesmen if c["outcome"] not in ("ok", "refused")]
    print(f"  the salesmen's calls during it: {len(salesmen)}, {len(failed)} failed")
    if not server.alive():
        problems.append("Odoo stopped")
    return problems


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
