#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Faults, each followed by the audit of bin/load (scripts/audit.py): steps
agree with records, no duplicate, one log line per successful transition,
the lead scoring counts right. bin/faults runs it on a scratch database:

1. kill: SIGKILL the worker serving a close_as_won on 500 processes (one
   XML-RPC call) in the middle of its transaction. The client must get an
   error, not a hang; the 500 processes must all be in their old step or
   all in the new one; the same call again must then do the rest.
2. database restart: restart PostgreSQL (the embedded one) during a load
   run, and kill an HTTP worker while it is down, which the master must
   re-spawn without the database. Calls in flight must fail or be refused
   cleanly, every worker must serve again by itself, with no HTTP 500
   outside the outage. The server runs as a team runs it, without a
   database given (--preload: with -d, on which Odoo 19 stops here).
3. server stop: stop the server while the overdue-step reminder cron runs,
   gracefully (Odoo lets the running job end), start it, then stop it
   forcibly (a second SIGTERM: Odoo kills its workers at once), start it,
   and let the cron finish: exactly one reminder per overdue process.

Prints what the clients saw and the audit of each case; exits 1 when
anything is wrong.
"""

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import load
import psutil
import psycopg2
import servers
from audit import (
    REMINDER_CRON,
    REMINDER_TYPE,
    Expected,
    audit,
    check_counts,
    check_reminders,
    connect,
    drain_scoring_queue,
    timed,
    xmlid,
)

DEVENV = Path(__file__).resolve().parents[1] / "bin" / "devenv"


def sql(db, query, params=None):
    """One query in a transaction of its own; the rows it returns."""
    connection = psycopg2.connect(dbname=db)
    try:
        with connection, connection.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else []
    finally:
        connection.close()


def writing(db):
    """Seconds the oldest open transaction of Odoo on `db` that has written
    (PostgreSQL gave it an xid) has run, or None."""
    return sql(
        db,
        "SELECT max(extract(epoch FROM now() - xact_start))::float FROM pg_stat_activity "
        "WHERE datname = %s AND backend_xid IS NOT NULL AND application_name LIKE 'odoo-%%'",
        [db],
    )[0][0]


def serving(server):
    """The HTTP workers with a client connection open."""
    busy = []
    for pid in server.children("http"):
        with contextlib.suppress(psutil.Error):
            if any(
                c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.http_port
                for c in psutil.Process(pid).connections(kind="tcp")
            ):
                busy.append(pid)
    return busy


def wait_for(condition, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


class Case:
    def __init__(self, number, title):
        self.number, self.title, self.problems, self.began = number, title, [], time.monotonic()
        print(f"\n== case {number}: {title}", flush=True)

    def say(self, line):
        print(f"  {line}", flush=True)

    def fail(self, problem):
        self.problems.append(problem)
        print(f"  PROBLEM: {problem}", flush=True)

    def audit(self, admin, team, workflow, expected, prefix):
        problems, lines, resolved = audit(admin, team, workflow, expected, prefix)
        for line in lines:
            self.say(line)
        self.problems += problems
        return resolved

    def result(self):
        verdict = "PASSED" if not self.problems else f"FAILED ({len(self.problems)} problems)"
        print(f"  case {self.number}: {verdict} in {time.monotonic() - self.began:.0f} s", flush=True)
        return not self.problems


def new_server(args, name, **options):
    return servers.OdooServer(name, args.db, args.addons_path, args.logdir, **options)


# -- 1. a worker killed in the middle of a 500-process transition -------------


def case_kill(args):
    case = Case(1, f"SIGKILL of the worker serving a close_as_won on {args.batch} processes")
    server = new_server(args, "case1", workers=2)
    with servers.running([server]):
        admin = connect(server.url, args.db, "admin", "admin", args.timeout)
        ctx, (login,) = load.setup(argparse.Namespace(clients=1), admin)
        salesman = connect(server.url, args.db, login, login, args.timeout)
        names = [f"Fault {ctx.tag} c0 p{n}" for n in range(args.batch)]
        leads = salesman(
            "crm.lead",
            "create",
            [
                {"name": name, "type": "opportunity", "team_id": ctx.team, "partner_name": f"{name} Co"}
                for name in names
            ],
        )
        pids = salesman("crm.sales.process", "start_from_opportunity", leads, {})
        expected = Expected()
        expected.leads_created = len(leads)
        expected.processes = {pid: ["start_from_opportunity"] for pid in pids}
        case.say(f"{len(pids)} processes in step new_opportunity, one salesman, {server}")
        load.warm_up(argparse.Namespace(db=args.db, admin_password="admin"), [server.url])

        close = {"close_revenue": 1000.0}
        outcome = {}
        call = threading.Thread(
            target=lambda: outcome.update(
                result=timed(lambda: salesman("crm.sales.process", "run_transition", pids, "close_as_won", close))
            )
        )
        call.start()
        killed = None

        def busy():
            # the worker holding the client's connection, while a transaction has written
            age, workers = writing(args.db), serving(server)
            return (workers[0], age) if age and age >= args.kill_after and len(workers) == 1 else None

        found = wait_for(lambda: busy() or not call.is_alive(), args.timeout, step=0.05)
        if isinstance(found, tuple):
            killed, age = found
            os.kill(killed, signal.SIGKILL)
            case.say(
                f"killed worker {killed} (SIGKILL), the one serving the call, {age:.2f} s into its "
                "transaction, which had written"
            )
        call.join(args.timeout + 10)
        if call.is_alive():
            case.fail(f"the client hangs: no answer after its {args.timeout} s timeout")
            return case.result()
        result, message, ms, *__ = outcome["result"]
        case.say(f"the client saw: {result}: {message[:160]} after {ms / 1000:.2f} s")
        if not killed:
            case.fail(f"the call ended ({result}) before a worker had run {args.kill_after} s: raise --batch")
        elif result == "ok":
            case.fail("the call of the killed worker succeeded")
        gone = wait_for(lambda: writing(args.db) is None, 60)
        case.say(
            "PostgreSQL rolled the killed worker's transaction back"
            if gone
            else "PROBLEM: the killed worker's transaction is still open after 60 s"
        )
        respawned = wait_for(lambda: len(server.children("http")) == server.workers, 30)
        case.say(
            f"Odoo re-spawned the worker: {len(server.children('http'))} HTTP workers"
            if respawned
            else "PROBLEM: the worker was not re-spawned"
        )
        if not (gone and respawned):
            case.fail("no recovery after the kill")

        expected.uncertain = dict.fromkeys(pids, "close_as_won")
        resolved = case.audit(admin, ctx.team, ctx.workflow, expected, f"Fault {ctx.tag} c")
        done = sum(resolved.values())
        if done not in (0, len(pids)):
            case.fail(f"{done} of {len(pids)} processes closed: the transition was not all or nothing")
        else:
            case.say(f"all or nothing: {'all' if done else 'none'} of the {len(pids)} processes closed as won")

        # the client tries again: the rest is done, or refused if it was done
        result, message, ms, *__ = timed(
            lambda: salesman("crm.sales.process", "run_transition", pids, "close_as_won", close)
        )
        case.say(f"the same call again: {result} after {ms / 1000:.2f} s" + (f": {message[:120]}" if message else ""))
        if (result == "ok") == bool(done) or result not in ("ok", "refused"):
            case.fail(f"the call again: {result}, with {done} processes already closed")
        for pid in pids:
            expected.processes[pid].append("close_as_won")
        expected.uncertain = {}
        case.audit(admin, ctx.team, ctx.workflow, expected, f"Fault {ctx.tag} c")
        self_check_counts(case, admin, args.db, ctx.team)
    return case.result()


def self_check_counts(case, admin, db, team):
    """The counts audit must see a missing count: take one closing off a
    lead scoring row of the team in SQL, check, put it back."""
    rows = sql(
        db,
        "SELECT id FROM crm_lead_scoring_frequency WHERE team_id = %s AND won_count >= 1.1 ORDER BY id LIMIT 1",
        [team],
    )
    if not rows:
        case.fail("no lead scoring row to check the counts audit with")
        return
    sql(db, "UPDATE crm_lead_scoring_frequency SET won_count = won_count - 1 WHERE id = %s", rows[0])
    try:
        problems, __ = check_counts(admin)
    finally:
        sql(db, "UPDATE crm_lead_scoring_frequency SET won_count = won_count + 1 WHERE id = %s", rows[0])
    if len(problems) == 1:
        case.say(f"audit self-check: one count taken off in SQL is reported ({problems[0][:110]}...)")
    else:
        case.fail(f"audit self-check: a missing count gave {len(problems)} problems, not 1")


# -- 2. PostgreSQL restarted under load -----------------------------------------


REQUEST = re.compile(r"^(\S+ \S+) (\d+) INFO \S+ werkzeug: .*\" (\d{3}) ")


def requests_by_worker(log, since):
    """{worker pid: {status: count}} of the requests logged after `since`."""
    counts = {}
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = REQUEST.match(line)
            if match:
                stamp, pid, status = match.groups()
                if load_time(stamp) > since:
                    by_status = counts.setdefault(int(pid), {})
                    by_status[status] = by_status.get(status, 0) + 1
    return counts


def load_time(stamp):
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:23]) / 1000


def case_restart(args):
    case = Case(2, f"PostgreSQL restarted ({args.pg_down:g} s down) during a load run")
    if os.environ.get("CSP_PG") != "embedded":
        case.fail(
            "this case restarts the embedded PostgreSQL; the PG* settings name a server of yours, which "
            "bin/faults does not restart: unset them, or leave this case out (--cases 1,3)"
        )
        return case.result()
    sys.path.insert(0, str(DEVENV))
    import postgres

    # as docs/operations.md "Running it for a team" runs Odoo: no database given, so
    # that the master loads none (--preload: with -d, see docs/operations.md)
    server = new_server(args, "case2", workers=4, cron_threads=1, log_handlers=("werkzeug:INFO",), preload=args.preload)
    with servers.running([server]):
        admin = connect(server.url, args.db, "admin", "admin", args.timeout)
        largs = argparse.Namespace(
            db=args.db,
            admin_password="admin",
            clients=args.clients,
            processes=args.processes,
            seed=2,
            timeout=args.timeout,
            max_seconds=args.load_seconds,
            tick=10,
        )
        ctx, logins = load.setup(largs, admin)
        load.enrichment_on_demand(admin)
        load.warm_up(largs, [server.url])
        window = []

        def kill_a_worker():
            # as a memory or request limit ends a worker: the master must
            # re-spawn it while the database is away
            victim = server.children("http")[0]
            os.kill(victim, signal.SIGKILL)
            respawned = wait_for(lambda: len(server.children("http")) == server.workers, 2)
            killed.append((victim, bool(respawned)))

        killed = []

        def restart(begin):
            time.sleep(max(0.0, begin + args.restart_after - time.monotonic()))
            print(
                f"  ... {time.monotonic() - begin:.0f} s: restarting PostgreSQL (pg_ctl stop -m fast, "
                f"{args.pg_down:g} s down, pg_ctl start)",
                flush=True,
            )
            window.append(postgres.restart(args.pg_down, while_down=kill_a_worker))
            print(
                f"  ... {time.monotonic() - begin:.0f} s: PostgreSQL back after {window[0][1] - window[0][0]:.1f} s",
                flush=True,
            )

        workers_before = {"http": server.children("http"), "cron": server.children("cron")}
        case.say(
            f"load: {args.clients} clients on {server}, for {args.load_seconds:g} s; "
            f"the restart {args.restart_after:g} s in"
        )
        clients, wall = load.run_clients(largs, ctx, logins, [server.url], during=restart)
        errors, __ = load.summarize(largs, ctx, clients, wall, [server.log], window)
        for kind, found in errors.items():
            if found:
                case.fail(f"{len(found)} x {kind} outside the outage")
        after = [c for cl in clients for c in cl.calls if window and c["start"] > window[0][1]]
        if not any(c["outcome"] == "ok" for c in after):
            case.fail("no call succeeded after the restart: the server did not recover by itself")
        http = [c for cl in clients for c in cl.calls if c["outcome"] == "http"]
        inside = [c for c in http if load.in_windows(c, window)]
        case.say(f"HTTP 500s: {len(http)}, {len(inside)} of them in the outage, {len(http) - len(inside)} outside")
        for victim, respawned in killed:
            case.say(
                f"while the database was down, HTTP worker {victim} was killed (SIGKILL): "
                + ("the master re-spawned it" if respawned else "not re-spawned within 2 s")
            )
        if not server.alive():
            case.fail(f"the Odoo server stopped (exit status {server.process.returncode}): see {server.log}")
            return case.result()
        workers_now = {"http": server.children("http"), "cron": server.children("cron")}
        case.say(
            "the server after the restart: "
            + "; ".join(
                f"{kind} workers {workers_before[kind]} -> {workers_now[kind]}"
                + (" (re-spawned)" if set(workers_before[kind]) - set(workers_now[kind]) else "")
                for kind in ("http", "cron")
            )
        )
        if len(workers_now["http"]) != server.workers or len(workers_now["cron"]) != server.cron_threads:
            case.fail("the server does not have all its workers after the restart")
        served = requests_by_worker(server.log, window[0][1]) if window else {}
        workers = set(server.children("http"))
        case.say(
            "after the restart, per HTTP worker (status: requests): "
            + "; ".join(
                f"{pid}: {dict(sorted(counts.items()))}" for pid, counts in sorted(served.items()) if pid in workers
            )
        )
        idle = workers - {pid for pid, counts in served.items() if counts.get("200")}
        if idle:
            case.fail(f"workers {sorted(idle)} served nothing successfully after the restart")
        if not window:
            case.fail("PostgreSQL was not restarted")
        expected = Expected.merge(client.expected for client in clients)
        case.audit(admin, ctx.team, ctx.workflow, expected, f"Load {ctx.tag} c")
    return case.result()


# -- 3. the server stopped while the reminder cron runs -------------------------


def case_stop(args):
    case = Case(3, f"the server stopped while the overdue reminder cron runs on {args.overdue} processes")
    os.environ["ODOO_NOTIFY_CRON_CHANGES"] = "1"  # a cron made due wakes the cron worker at once
    server = new_server(args, "case3", workers=2, cron_threads=1)
    with servers.running([server]):
        admin = connect(server.url, args.db, "admin", "admin", args.timeout)
        load.enrichment_on_demand(admin)
        cron = xmlid(admin, REMINDER_CRON, "ir.cron")
        activity_type = xmlid(admin, REMINDER_TYPE, "mail.activity.type")
        team = admin("crm.team", "create", {"name": f"Overdue {args.db[-6:]}", "channel_type": "b2b"})
        pids = []
        for start in range(0, args.overdue + args.fresh, 1000):
            count = min(1000, args.overdue + args.fresh - start)
            leads = admin(
                "crm.lead",
                "create",
                [{"name": f"Overdue {start + n}", "type": "lead", "team_id": team} for n in range(count)],
            )
            pids += admin("crm.sales.process", "start_from_lead", leads, {})
            case.say(f"... {len(pids)} processes started")
        overdue, fresh = pids[: args.overdue], pids[args.overdue :]
        new_lead = admin("crm.sales.process.step", "search", [("code", "=", "new_lead")])
        admin("crm.sales.process.step", "write", new_lead, {"max_days": 1})
        load.make_overdue(args.db, overdue)
        case.say(f"{len(overdue)} processes overdue in step New Lead (max 1 day), {len(fresh)} not")

        def reminded():
            return sql(args.db, "SELECT count(*) FROM mail_activity WHERE activity_type_id = %s", [activity_type])[0][0]

        def make_due():
            for __ in range(30):  # refused while the cron runs
                if timed(lambda: admin("ir.cron", "write", [cron], {"nextcall": load.now_utc()}))[0] == "ok":
                    return
                time.sleep(1)
            case.fail("the cron could not be made due for 30 s")

        for forced in (False, True):
            make_due()
            before = reminded()
            running = wait_for(
                lambda before=before: before < reminded() < len(overdue) and writing(args.db), 120, step=0.1
            )
            if not running:
                case.fail(f"the cron did not run, or ended before the stop ({reminded()} reminders)")
                break
            at_stop = reminded()
            seconds, left = server.stop(forced=forced)
            case.say(
                (
                    "forced stop (SIGTERM twice: Odoo kills its workers)"
                    if forced
                    else "graceful stop (SIGTERM: Odoo lets the running cron pass end)"
                )
                + f" with the cron's batch in flight, {at_stop} of {len(overdue)} reminders committed: "
                f"stopped in {seconds:.1f} s, {reminded()} reminders committed"
                + (f"; {len(left)} processes of the server still alive 5 s after were killed" if left else "")
            )
            server.start()
            case.say(f"started again ({server})")
        make_due()  # the cron worker would otherwise wait for its minute
        began = time.monotonic()
        finished = wait_for(lambda: reminded() >= len(overdue) and writing(args.db) is None, 300, step=0.5)
        case.say(
            f"the cron finished in {time.monotonic() - began:.0f} s after the restart: {reminded()} reminders"
            if finished
            else f"PROBLEM: the cron did not finish within 300 s ({reminded()} reminders)"
        )
        result, message, *__ = timed(lambda: admin("ir.cron", "method_direct_trigger", [cron]))
        case.say(f"the cron run once more by hand: {result} {message[:100]}")
        problems, __ = check_reminders(admin, overdue, fresh)
        case.say(
            "reminders: "
            + (
                f"OK: exactly one per overdue process ({len(overdue)}), none on the {len(fresh)} others"
                if not problems
                else f"{len(problems)} PROBLEMS"
            )
        )
        for problem in problems[:10]:
            case.fail(problem)
        if not finished:
            case.fail("the cron did not finish")
        queue_problems, note = drain_scoring_queue(admin)
        problems, summary = check_counts(admin)
        case.problems += queue_problems + problems
        case.say(f"counts: {note}; {'OK: ' if not problems else 'PROBLEMS: '}{summary}")
    return case.result()


CASES = {1: case_kill, 2: case_restart, 3: case_stop}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--logdir", default=".")
    parser.add_argument("--cases", default="1,2,3", help="which cases, e.g. 1,3")
    parser.add_argument("--timeout", type=float, default=120, help="of each client call, in seconds")
    parser.add_argument("--batch", type=int, default=500, help="1: processes of the killed call")
    parser.add_argument(
        "--kill-after", type=float, default=1.0, help="1: seconds into the worker's transaction at which it is killed"
    )
    parser.add_argument("--clients", type=int, default=4, help="2: load clients")
    parser.add_argument("--processes", type=int, default=1000, help="2: per client, cut by --load-seconds")
    parser.add_argument("--load-seconds", type=float, default=60, help="2: length of the load run")
    parser.add_argument("--restart-after", type=float, default=20, help="2: seconds into the load run")
    parser.add_argument("--pg-down", type=float, default=3, help="2: seconds PostgreSQL stays down")
    parser.add_argument(
        "--preload",
        action="store_true",
        help="2: start the server with -d, its master then loads the database (see docs/operations.md)",
    )
    parser.add_argument("--overdue", type=int, default=3000, help="3: overdue processes")
    parser.add_argument("--fresh", type=int, default=50, help="3: processes not overdue")
    args = parser.parse_args()
    try:
        cases = sorted({int(n) for n in args.cases.split(",")})
    except ValueError:
        parser.error(f"--cases takes numbers separated by commas (1,2,3), not {args.cases!r}")
    if not cases or not set(cases) <= set(CASES):
        parser.error(f"--cases: choose among {', '.join(map(str, CASES))}")
    if args.batch < 1 or args.overdue < 1 or args.clients < 1 or args.restart_after >= args.load_seconds:
        parser.error("--batch, --overdue and --clients must be positive, --restart-after below --load-seconds")
    began = time.monotonic()
    verdicts = {}
    for number in cases:
        try:
            verdicts[number] = CASES[number](args)
        except Exception as error:  # noqa: BLE001 -- a case that breaks is a failed case, the others still run
            print(f"  case {number}: FAILED, it broke: {error!r}", flush=True)
            verdicts[number] = False
    print(
        "\nfaults: "
        + ", ".join(f"case {n} {'PASSED' if ok else 'FAILED'}" for n, ok in verdicts.items())
        + f" in {time.monotonic() - began:.0f} s"
    )
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
