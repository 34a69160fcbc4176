#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Drive Odoo prefork servers with concurrent XML-RPC clients, each logged in
as its own salesman and driving its own Sales Processes through the whole
default workflow, with about 10% deliberately invalid calls mixed in. Print
the throughput, the latency and the errors by kind, then audit the database
(scripts/audit.py): every process agrees with its records, no duplicated
lead or opportunity, one log line per successful transition, the lead
scoring counts right. Exit 1 when anything is wrong.

bin/load runs it on a scratch database and lets it start the servers:
--nodes 1 is one server with 4 workers; --nodes 2 is two servers with 2
workers and a cron worker each, on one database, the clients spread over
them, and a cron check: the overdue-step reminder cron run by both servers
at the same moments (scheduled runs and direct triggers on each) reminds
each overdue process exactly once. It also drives a running server:

    bin/python scripts/load.py --url http://127.0.0.1:8069 --db DB --clients 8 --processes 100
"""

import argparse
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid

import psycopg2
import servers
from audit import (
    REMINDER_CRON,
    STARTS,
    TO_STEP,
    Expected,
    audit,
    check_reminders,
    concurrently,
    connect,
    m2o,
    read_server_log,
    timed,
    unknown_outcome,
    xmlid,
)

AVAILABLE = {
    "new_lead": {"qualify", "disqualify"},
    "disqualified_lead": {"follow_up", "reactivate"},
    "new_opportunity": {"develop", "close_as_won", "close_as_lost"},
    "developed_opportunity": {"close_as_won", "close_as_lost"},
    "won_opportunity": {"reopen"},
    "lost_opportunity": {"reopen"},
}
RUN_CODES = sorted(set(TO_STEP) - set(STARTS))
# a deliberately invalid variant of the valid call that comes next, by kind:
# {code: (key, bad value)}, None to leave the key out (besides these: a
# transition of another step, an unknown transition code)
INVALID = {
    "missing_value": {
        "follow_up": ("note", None),
        "develop": ("partner_id", None),
        "close_as_won": ("close_revenue", None),
        "close_as_lost": ("lost_reason_id", None),
    },
    "negative_amount": {"develop": ("budget_amount", -500.0), "close_as_won": ("close_revenue", -500.0)},
    "probability_150": {"develop": ("probability", 150)},
    "unknown_lost_reason": {"close_as_lost": ("lost_reason_id", 10**8)},
    "bad_date": {
        "close_as_won": ("close_date", "2025-02-30"),
        "close_as_lost": ("close_date", "2025-02-30"),
        "start_from_lead": ("date_start", "2025-02-30"),
        "start_from_opportunity": ("date_start", "2025-02-30"),
    },
}
ROUND_SECONDS = 10  # between the cron rounds of --nodes 2
ERROR_KINDS = (
    "valid call failed",
    "invalid call accepted",
    "unclean refusal",
    "HTTP 500 / ProtocolError",
    "other exception",
    "server log ERROR lines and addon warnings",
)


def plan(ctx, i, name, from_opportunity):
    """The valid calls of process i: every transition of the default workflow
    is exercised, from each of its steps, with and without optional values."""
    develop = {
        "partner_id": ctx.customer,
        "budget_amount": 1000.0 + i,
        "probability": 40 + i % 50,
        "customer_need": "Faster quotes",
        "proposed_solution": "Our B2B plan",
    }
    if i % 3 == 0:
        develop["contact_id"] = ctx.contact
    won = {"close_revenue": 5000.0 + i, **({"close_date": "2025-06-30"} if i % 2 else {})}
    lost = {"lost_reason_id": ctx.reasons[i % 2], **({} if i % 3 else {"close_date": "2025-01-15"})}
    qualify = [
        {"partner_id": ctx.customer, "notes": "Known customer"},
        {"opportunity_name": f"{name} deal", "company_name": f"{name} Co"},
        {},
    ][i % 3]
    start = {"team_id": ctx.team} if i % 2 else {}
    if from_opportunity:
        calls = [("start_from_opportunity", start), ("develop", develop)]
    else:
        calls = [
            ("start_from_lead", start),
            ("disqualify", {"reason": "No budget this quarter"}),
            ("follow_up", {"note": "Called back: budget next year."}),
            ("reactivate", {}),
            ("qualify", qualify),
        ] + ([] if i % 4 == 2 else [("develop", develop)])
    calls += [("close_as_won", won), ("reopen", {})]
    if i % 2:
        return calls + [("close_as_lost", lost)]
    return calls + [
        ("develop", develop),
        ("close_as_won" if i % 4 == 0 else "close_as_lost", won if i % 4 == 0 else lost),
    ]


def invalid_call(rnd, step, code, values):
    """(kind, code, values) of a call that must be refused, given the step
    and the valid call that comes next."""
    kinds = ["wrong_step"] + (["unknown_code"] if step else []) + [k for k in INVALID if code in INVALID[k]]
    kind = rnd.choice(kinds)
    if kind == "wrong_step":  # before the start: start a lead as an opportunity, or the reverse
        others = sorted(set(RUN_CODES) - AVAILABLE[step]) if step else [STARTS[1 - STARTS.index(code)]]
        return kind, rnd.choice(others), {}
    if kind == "unknown_code":
        return kind, "teleport", {}
    key, bad = INVALID[kind][code]
    values = {k: v for k, v in values.items() if k != key}
    if bad is not None:
        values[key] = bad
    return kind, code, values


class Client(threading.Thread):
    connect = staticmethod(connect)  # how it logs in and calls (XML-RPC; bin/replica: the web client's JSON-RPC)

    def __init__(self, args, ctx, number, login, url):
        super().__init__(name=f"client-{number}")
        self.args, self.ctx, self.number, self.login, self.url = args, ctx, number, login, url
        self.rnd = random.Random(args.seed * 1000 + number)
        self.calls = []  # one dict per call
        self.expected = Expected()
        self.cut = False

    def run(self):
        outcome, message, __, self.call, *__ = timed(
            lambda: self.connect(self.url, self.args.db, self.login, self.login, self.args.timeout)
        )
        if outcome != "ok":
            self.calls.append(
                {
                    "valid": True,
                    "kind": "valid",
                    "code": "login",
                    "outcome": outcome,
                    "message": message,
                    "ms": 0,
                    "process": None,
                    "start": 0,
                    "end": 0,
                }
            )
            return
        for i in range(self.args.processes):
            if time.monotonic() > self.ctx.deadline:
                self.cut = True
                return
            self.drive(i)

    def drive(self, i):
        name = f"Load {self.ctx.tag} c{self.number} p{i}"
        from_opportunity = i % 5 == 4
        outcome, message, ms, record_id, start, end = timed(
            lambda: self.call(
                "crm.lead",
                "create",
                {
                    "name": name,
                    "type": "opportunity" if from_opportunity else "lead",
                    "team_id": self.ctx.team,
                    "user_id": self.call.uid,
                    "partner_name": f"{name} Co",
                    "contact_name": f"Contact c{self.number} p{i}",
                    "email_from": f"c{self.number}p{i}@load.example.com",
                },
            )
        )
        if outcome != "ok":  # counted as a valid call that failed, not as a transition
            self.expected.uncertain_creates += unknown_outcome(outcome)
            self.calls.append(
                {
                    "valid": True,
                    "kind": "valid",
                    "code": "crm.lead create",
                    "outcome": outcome,
                    "message": message,
                    "ms": ms,
                    "process": None,
                    "start": start,
                    "end": end,
                }
            )
            return
        self.expected.leads_created += 1
        process, step = None, None
        for code, values in plan(self.ctx, i, name, from_opportunity):
            if time.monotonic() > self.ctx.deadline:
                self.cut = True
                return
            if self.rnd.random() < 1 / 9:  # 1 invalid per 9 valid: 10% of the calls
                self.attempt(record_id, process, *invalid_call(self.rnd, step, code, values), valid=False)
            outcome, result = self.attempt(record_id, process, "valid", code, values, valid=True)
            if outcome != "ok":
                if unknown_outcome(outcome):  # the audit finds out which way it went
                    if code in STARTS:
                        self.expected.uncertain_starts[record_id] = code
                    else:
                        self.expected.uncertain[process] = code
                return  # its step is unknown now: stop driving this process
            if code in STARTS:
                process = result
                self.expected.processes[process] = []
            self.expected.processes[process].append(code)
            step = TO_STEP[code] or step

    def attempt(self, record_id, process, kind, code, values, valid):
        if code in STARTS:
            params = ("crm.sales.process", code, record_id, values)
        else:
            params = ("crm.sales.process", "run_transition", [process], code, values)
        outcome, message, ms, result, start, end = timed(lambda: self.call(*params))
        self.calls.append(
            {
                "valid": valid,
                "kind": kind,
                "code": code,
                "outcome": outcome,
                "message": message,
                "ms": ms,
                "process": process,
                "start": start,
                "end": end,
            }
        )
        return outcome, result


def classify(call, names):
    """The error kind of one call, or None when it behaved as it should."""
    outcome = call["outcome"]
    if outcome == "http":
        return "HTTP 500 / ProtocolError"
    if outcome == "other":
        return "other exception"
    if call["valid"]:
        return None if outcome == "ok" else "valid call failed"
    if outcome == "ok":
        return "invalid call accepted"
    # a readable refusal names the transition it refuses
    if outcome == "fault" or not any(n in call["message"] for n in names.get(call["code"], [call["code"]])):
        return "unclean refusal"
    return None


def percentile(values, p):
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def warm_up(args, urls):
    """Each worker loads the registry on its first request: concurrent calls
    reach every worker before the clock starts, so the figures leave it out."""
    for __ in range(2):
        threads = [
            threading.Thread(
                target=lambda url=url: connect(url, args.db, "admin", args.admin_password)(
                    "res.users", "search_count", []
                )
            )
            for url in urls
            for __ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def setup(args, admin):
    ctx = argparse.Namespace(tag=uuid.uuid4().hex[:6])
    ctx.team = admin("crm.team", "create", {"name": f"Load {ctx.tag}", "channel_type": "b2b"})
    group = admin(
        "ir.model.data",
        "search_read",
        [("module", "=", "sales_team"), ("name", "=", "group_sale_salesman_all_leads")],
        ["res_id"],
    )
    logins = [f"load_{ctx.tag}_{n}" for n in range(args.clients)]
    admin(
        "res.users",
        "create",
        [
            {
                "name": f"Load Salesman {n}",
                "login": login,
                "password": login,
                "group_ids": [(6, 0, [group[0]["res_id"]])],
            }
            for n, login in enumerate(logins)
        ],
    )
    reasons = {
        r["name"]: r["id"]
        for r in admin("crm.lost.reason", "search_read", [("name", "in", ["Outsold", "Cancelled"])], ["name"])
    }
    ctx.reasons = [reasons["Outsold"], reasons["Cancelled"]]
    ctx.customer = admin("res.partner", "create", {"name": f"Load {ctx.tag} Customer", "is_company": True})
    ctx.contact = admin("res.partner", "create", {"name": f"Load {ctx.tag} Buyer", "parent_id": ctx.customer})
    # a new B2B channel gets the default workflow: its transitions' names appear in refusals
    ctx.workflow = m2o(
        admin("crm.team", "read", [ctx.team], ["sales_process_workflow_id"])[0]["sales_process_workflow_id"]
    )
    ctx.names = {
        t["code"]: [t["code"], t["name"]]
        for t in admin(
            "crm.sales.process.transition", "search_read", [("workflow_id", "=", ctx.workflow)], ["code", "name"]
        )
    }
    return ctx, logins


def in_windows(call, windows):
    return any(call["start"] <= end and call["end"] >= start for start, end in windows)


def summarize(args, ctx, clients, wall, logs=(), windows=()):
    """Print the run's figures; return its errors by kind. A failed call
    that overlaps one of the `windows` (a fault: the database down) is
    listed apart, as what the clients saw during it."""
    every = [c for client in clients for c in client.calls]
    calls = [c for c in every if c["code"] not in ("login", "crm.lead create")]
    valid = [c for c in calls if c["valid"]]
    succeeded = [c for c in valid if c["outcome"] == "ok"]
    refused = [c for c in calls if c["outcome"] == "refused"]
    cut = any(client.cut for client in clients)
    print(
        (f"run: CUT SHORT by the {args.max_seconds:g} s deadline" if cut else "run: complete")
        + f", {sum(len(c.expected.processes) for c in clients)} of {args.clients * args.processes} processes "
        f"started, wall time {wall:.1f} s"
    )
    print(
        f"calls: {len(calls)} transition calls, {len(valid)} valid, {len(calls) - len(valid)} invalid "
        f"({100 * (len(calls) - len(valid)) / max(len(calls), 1):.1f}%), "
        f"plus {sum(c.expected.leads_created for c in clients)} lead creates"
    )
    print(
        f"transitions per second: {len(succeeded) / wall:.1f} "
        f"({len(succeeded)} successful start/run_transition calls in {wall:.1f} s)"
    )

    def p50_p95(selected):
        times = [c["ms"] for c in selected]
        return f"p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms"

    print(
        f"latency of transition calls: {p50_p95(calls)} (successful: {p50_p95(succeeded)}; refused: {p50_p95(refused)})"
    )
    for code in list(STARTS) + RUN_CODES:
        done = [c for c in succeeded if c["code"] == code]
        print(f"  {code:<23} {len(done):>5} ok, {p50_p95(done)}")
    print("invalid calls by kind (outcome, an example refusal):")
    for kind in sorted({c["kind"] for c in calls if not c["valid"]}):
        mine = [c for c in calls if c["kind"] == kind and not c["valid"]]
        outcomes = {o: sum(c["outcome"] == o for c in mine) for o in sorted({c["outcome"] for c in mine})}
        example = next((c for c in mine if c["outcome"] == "refused"), mine[0])
        print(f"  {kind:<20} {outcomes}  {example['code']}: {example['message'][:110]!r}")
    errors = {kind: [] for kind in ERROR_KINDS}
    during = {}
    for call in every:
        kind = classify(call, ctx.names)
        if kind and in_windows(call, windows):
            during.setdefault(kind, []).append(call)
        elif kind:
            errors[kind].append(
                f"{call['kind']} {call['code']} on process {call['process']}: "
                f"{call['outcome']}: {call['message'][:300]}"
            )
    if windows:
        print_fault_window(every, during, windows)
    errors["server log ERROR lines and addon warnings"] = summarize_logs(logs, windows)
    print("errors by kind" + (" (outside the fault window)" if windows else "") + ":")
    for kind, found in errors.items():
        print(f"  {kind}: {len(found)}")
        for line in found[:5]:
            print(f"    - {line}")
    return errors, cut


def print_fault_window(every, during, windows):
    """What the clients saw during a fault, and after it."""
    clock = ", ".join(
        f"{time.strftime('%H:%M:%S', time.localtime(start))} to "
        f"{time.strftime('%H:%M:%S', time.localtime(end))} ({end - start:.1f} s)"
        for start, end in windows
    )
    after = [c for c in every if c["start"] > max(end for __, end in windows)]
    print(
        f"calls overlapping the fault window ({clock}): {sum(in_windows(c, windows) for c in every)}, "
        "of which failed: " + (", ".join(f"{kind} {len(found)}" for kind, found in sorted(during.items())) or "none")
    )
    seen = {}
    for found in during.values():
        for call in found:
            seen[call["message"][:150]] = seen.get(call["message"][:150], 0) + 1
    for message, count in sorted(seen.items(), key=lambda item: -item[1]):
        print(f"  {count} x {message}")
    print(
        f"calls started after it: {len(after)}, {sum(c['outcome'] == 'ok' for c in after)} ok, "
        f"{sum(c['outcome'] == 'refused' for c in after)} refused (the invalid ones), "
        f"{sum(c['outcome'] not in ('ok', 'refused') for c in after)} failed"
    )


def summarize_logs(logs, windows):
    """Print what the server logs say; return their ERROR records outside the windows."""
    found = [read_server_log(log, windows) for log in logs]
    conflicts = {}
    for log in found:
        for table, count in log.conflicts.items():
            conflicts[table] = conflicts.get(table, 0) + count
    crons = [name for log in found for name in log.crons]
    if logs:
        print(
            f"server log: {sum(conflicts.values())} serialization conflicts ("
            + (", ".join(f"{t} {n}" for t, n in sorted(conflicts.items())) or "none")
            + f"), {sum(log.retried for log in found)} calls retried by Odoo, "
            f"{sum(log.exhausted for log in found)} out of retries"
            + (f"; cron runs failed on one (run again at their next time): {crons}" if crons else "")
            + (f"; {sum(len(log.in_window) for log in found)} ERROR records in the fault window" if windows else "")
        )
        for line in [line for log in found for line in log.in_window][:5]:
            print(f"    - {line}")
    return [line for log in found for line in log.errors]


def run_clients(args, ctx, logins, urls, during=None, client_class=Client):
    """Run the clients to the end or the deadline, printing a sign of life
    every `args.tick` seconds; `during(begin)` runs in a thread of its own
    (a fault, the cron rounds). Returns (clients, wall time)."""
    clients = [client_class(args, ctx, n, login, urls[n % len(urls)]) for n, login in enumerate(logins)]
    begin = time.monotonic()
    ctx.deadline = begin + args.max_seconds
    side = threading.Thread(target=during, args=(begin,), name="during") if during else None
    for client in clients:
        client.start()
    if side:
        side.start()
    while any(client.is_alive() for client in clients):
        tick = time.monotonic() + args.tick
        for client in clients:
            client.join(max(0.0, tick - time.monotonic()))
        done = sum(c["outcome"] == "ok" and c["valid"] and c["code"] in TO_STEP for cl in clients for c in cl.calls)
        print(f"  ... {time.monotonic() - begin:.0f} s: {done} successful transitions", flush=True)
    if side:
        side.join()
    return clients, time.monotonic() - begin


class CronRounds:
    """The overdue-step reminder cron on every server at once, while the
    clients run: a slice of processes of a channel of their own becomes
    overdue (its date back-dated in SQL: days cannot be waited for), then
    the cron is made due, which wakes the cron worker of every server
    (ODOO_NOTIFY_CRON_CHANGES), and from the second round on it is also
    triggered directly on every server at the same moment."""

    def __init__(self, args, admin, urls, rounds=3, size=60):
        self.args, self.admin, self.urls, self.rounds = args, admin, urls, rounds
        self.cron = xmlid(admin, REMINDER_CRON, "ir.cron")
        team = admin("crm.team", "create", {"name": f"Overdue {uuid.uuid4().hex[:6]}", "channel_type": "b2b"})
        leads = admin(
            "crm.lead",
            "create",
            [{"name": f"Overdue {n}", "type": "lead", "team_id": team} for n in range(rounds * size)],
        )
        self.pids = admin("crm.sales.process", "start_from_lead", leads, {})
        self.slices = [self.pids[n * size : (n + 1) * size] for n in range(rounds)]
        new_lead = admin("crm.sales.process.step", "search", [("code", "=", "new_lead")])
        admin("crm.sales.process.step", "write", new_lead, {"max_days": 1})
        self.direct = []  # (server url, outcome, message)
        self.due = (0, 0)  # the cron made due: (done, refused because it was running)
        self.done = 0

    def __call__(self, begin):
        for number, pids in enumerate(self.slices):
            # while the clients run: a round every ROUND_SECONDS
            time.sleep(max(0.0, begin + (number + 1) * ROUND_SECONDS - time.monotonic()))
            self.make_overdue(pids)
            triggers = [self.trigger(url) for url in self.urls] if number else []
            results = concurrently(self.make_due, *triggers)
            self.due = (self.due[0] + (results[0][0] == "ok"), self.due[1] + (results[0][0] != "ok"))
            for url, (outcome, message, *__) in zip(self.urls, results[1:], strict=False):
                self.direct.append((url, outcome, message))
            print(
                f"  ... cron round {number + 1}: {len(pids)} processes overdue, cron due on every server"
                + (f", triggered directly on {len(triggers)} servers at once" if triggers else ""),
                flush=True,
            )
            self.done += 1

    def make_overdue(self, pids):
        make_overdue(self.args.db, pids)

    def make_due(self):
        return self.admin("ir.cron", "write", [self.cron], {"nextcall": now_utc()})

    def trigger(self, url):
        """A direct run of the cron on the server at `url` (Odoo's "Run Manually")."""

        def run():
            return connect(url, self.args.db, "admin", self.args.admin_password, self.args.timeout)(
                "ir.cron", "method_direct_trigger", [self.cron]
            )

        return run

    def finish(self, fresh):
        """Once no server runs it, run the cron once more on each server (it
        must remind nobody twice), then check. Returns (problems, lines)."""
        for url in self.urls:
            run = self.trigger(url)
            deadline = time.monotonic() + 120
            outcome, message, *__ = timed(run)
            while "already executing" in message and time.monotonic() < deadline:
                time.sleep(1)
                outcome, message, *__ = timed(run)
            self.direct.append((url, outcome, message))
        problems, __ = check_reminders(self.admin, self.pids, fresh)
        ran = sum(outcome == "ok" for __, outcome, __ in self.direct)
        refused = [m for __, outcome, m in self.direct if outcome != "ok"]
        lines = [
            f"cron: {len(self.pids)} processes made overdue in {self.done} rounds; due {self.due[0]} times "
            f"(refused {self.due[1]}: running); direct triggers: {ran} ran, {len(refused)} refused"
            + (f" ({refused[0][:100]!r})" if refused else "")
        ]
        lines.append(
            "reminders: "
            + (
                f"OK: exactly one per overdue process ({len(self.pids)}), none on the {len(fresh)} load processes"
                if not problems
                else f"{len(problems)} PROBLEMS"
            )
        )
        lines += [f"  - {problem}" for problem in problems[:20]]
        return problems, lines


def enrichment_on_demand(admin):
    """Odoo's IAP lead enrichment (crm_iap_enrich) is automatic by default:
    each new lead triggers its cron, which locks the fresh leads while it asks
    the IAP service; a process started on one of them then is refused ("being
    started ... right now"), and the cron logs an ERROR for each lead a
    transition holds. IAP is out of reach from here: its cron would only
    fail; set it on demand, as a site without IAP does."""
    settings = admin("res.config.settings", "create", {"lead_enrich_auto": "manual"})
    admin("res.config.settings", "execute", [settings])  # the setting, and its cron deactivated
    print("note: Odoo's lead enrichment set on demand (IAP is out of reach; its automatic cron locks new leads)")


def make_overdue(db, pids, days=3):
    """Back-date the processes' entry in their step (PG* variables name the server)."""
    connection = psycopg2.connect(dbname=db)
    try:
        with connection, connection.cursor() as cr:
            cr.execute(
                "UPDATE crm_sales_process SET date_step = date_step - make_interval(days => %s) WHERE id = ANY(%s)",
                [days, pids],
            )
    finally:
        connection.close()


def now_utc():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def cron_runs(logs):
    """Per server log: {status: runs} of the reminder cron, from the line
    Odoo's ir_cron logs at the end of each job ("fully done", "partially
    done": its time was up, another run does the rest, "failed")."""
    found = []
    for log in logs:
        statuses = {}
        with open(log, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                ended = re.search(r"Job 'Sales Process: remind[^']*' \(\d+\) ([a-z ]+) \(#loop", line)
                if ended:
                    statuses[ended.group(1)] = statuses.get(ended.group(1), 0) + 1
        found.append(statuses)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", help="a running server to drive (repeat it for several)")
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", help="start the servers here (bin/load)")
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        choices=(1, 2, 3, 4),
        help="with --addons-path: 1 server with 4 workers, or N servers with 2 workers and a "
        "cron worker each, one database, plus the cron check",
    )
    parser.add_argument("--logdir", default=".", help="with --addons-path: where the server logs go")
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=100, help="per client")
    parser.add_argument("--max-seconds", type=float, default=600, help="the clients stop after it")
    parser.add_argument("--timeout", type=float, default=180, help="of each call, in seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-log", action="append", default=[], help="with --url: a server's log file, searched for ERROR lines"
    )
    args = parser.parse_args()
    if bool(args.url) == bool(args.addons_path):
        parser.error("give either --url (running servers) or --addons-path (start them)")
    if args.clients < 1 or args.processes < 1:
        parser.error("--clients and --processes must be at least 1")
    args.tick = 60
    if args.url:
        return drive(args, args.url, args.server_log, cron=False)
    nodes = [
        servers.OdooServer(
            f"node{n + 1}" if args.nodes > 1 else "server",
            args.db,
            args.addons_path,
            args.logdir,
            workers=4 if args.nodes == 1 else 2,
            cron_threads=0 if args.nodes == 1 else 1,
        )
        for n in range(args.nodes)
    ]
    if args.nodes > 1:
        # the cron workers wake when a cron becomes due, not on their next minute
        os.environ["ODOO_NOTIFY_CRON_CHANGES"] = "1"
    with servers.running(nodes):
        status = drive(args, [n.url for n in nodes], [n.log for n in nodes], cron=args.nodes > 1)
        for node in nodes:
            count, last = servers.crashes(node)
            if count:
                print(
                    f"note: a child of {node.name} died {count} times and was re-spawned, last error: "
                    f"{last} (see {node.out})"
                )
    return status


def drive(args, urls, logs, cron):
    admin = connect(urls[0], args.db, "admin", args.admin_password, args.timeout)
    ctx, logins = setup(args, admin)
    if cron:
        enrichment_on_demand(admin)
    rounds = CronRounds(args, admin, urls) if cron else None
    warm_up(args, urls)
    print(
        f"load: {args.clients} clients x {args.processes} processes on {args.db} ("
        + ", ".join(urls)
        + f"), seed {args.seed}, deadline {args.max_seconds:g} s",
        flush=True,
    )
    clients, wall = run_clients(args, ctx, logins, urls, during=rounds)
    errors, cut = summarize(args, ctx, clients, wall, logs)
    expected = Expected.merge(client.expected for client in clients)
    if len(urls) > 1:
        per_url = {url: sum(len(c.expected.processes) for c in clients if c.url == url) for url in urls}
        print("clients spread: " + ", ".join(f"{url} {count} processes" for url, count in per_url.items()))
    problems, lines, __ = audit(admin, ctx.team, ctx.workflow, expected, f"Load {ctx.tag} c")
    print("\n".join(lines))
    if rounds:
        cron_problems, cron_lines = rounds.finish(fresh=sorted(expected.processes))
        print("\n".join(cron_lines))
        runs = cron_runs(logs)
        print(
            "reminder cron runs by server (scheduled and by hand): "
            + "; ".join(
                f"{url}: " + (", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none")
                for url, statuses in zip(urls, runs, strict=True)
            )
        )
        problems += cron_problems
    failed = problems or any(errors.values())
    print("result: " + ("FAILED" if failed else "PASSED") + (" (cut short)" if cut else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
