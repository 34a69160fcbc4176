#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Drive a running server (start it with --workers) with concurrent XML-RPC
clients, each logged in as its own salesman and driving its own Sales
Processes through the whole default workflow, with about 10% deliberately
invalid calls mixed in. Print the throughput, the latency and the errors by
kind, then audit the database: every process agrees with its records, no
duplicated lead or opportunity, one log line per successful transition.
Exit 1 when anything is wrong. bin/load runs it on a scratch database.

    bin/python scripts/load.py --url http://127.0.0.1:8069 --db DB --clients 8 --processes 100
"""

import argparse
import random
import re
import statistics
import sys
import threading
import time
import uuid
import xmlrpc.client

STARTS = ("start_from_lead", "start_from_opportunity")
TO_STEP = {
    "start_from_lead": "new_lead", "start_from_opportunity": "new_opportunity",
    "qualify": "new_opportunity", "disqualify": "disqualified_lead", "follow_up": None,
    "reactivate": "new_lead", "develop": "developed_opportunity",
    "close_as_won": "won_opportunity", "close_as_lost": "lost_opportunity", "reopen": "new_opportunity",
}
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
    "missing_value": {"follow_up": ("note", None), "develop": ("partner_id", None),
                      "close_as_won": ("close_revenue", None), "close_as_lost": ("lost_reason_id", None)},
    "negative_amount": {"develop": ("budget_amount", -500.0), "close_as_won": ("close_revenue", -500.0)},
    "probability_150": {"develop": ("probability", 150)},
    "unknown_lost_reason": {"close_as_lost": ("lost_reason_id", 10**8)},
    "bad_date": {"close_as_won": ("close_date", "2025-02-30"), "close_as_lost": ("close_date", "2025-02-30"),
                 "start_from_lead": ("date_start", "2025-02-30"),
                 "start_from_opportunity": ("date_start", "2025-02-30")},
}
ERROR_KINDS = ("valid call failed", "invalid call accepted", "unclean refusal",
               "HTTP 500 / ProtocolError", "other exception", "server log ERROR lines and addon warnings")


class TimeoutTransport(xmlrpc.client.Transport):
    # a hung worker must not outlive the run's deadline forever
    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = 180
        return connection


def connect(args, login, password):
    common = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/common")
    uid = common.authenticate(args.db, login, password, {})
    if not uid:
        raise RuntimeError(f"cannot log in as {login} on {args.db}")
    models = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/object", allow_none=True,
                                       transport=TimeoutTransport())

    def call(model, method, *params, **kwargs):
        return models.execute_kw(args.db, uid, password, model, method, list(params), kwargs)

    call.uid = uid
    return call


def m2o(value):
    return value[0] if value else False


def timed(fn):
    """Run fn(); return (outcome, message, milliseconds, result). /xmlrpc/2
    sends a UserError (ValidationError...) as a Fault of code 2 with its
    message, an AccessError as code 4, anything else as code 1 with the
    traceback."""
    start, result = time.perf_counter(), None
    try:
        result = fn()
        outcome, message = "ok", ""
    except xmlrpc.client.Fault as fault:
        text = str(fault.faultString)
        if fault.faultCode in (2, 4) and "Traceback" not in text:
            outcome, message = "refused", text
        else:
            outcome, message = "fault", f"code {fault.faultCode}: {(text.strip().splitlines() or [''])[-1]}"
    except xmlrpc.client.ProtocolError as error:
        outcome, message = "http", f"HTTP {error.errcode} {error.errmsg}"
    except Exception as error:  # noqa: BLE001 -- reported as an error of the run
        outcome, message = "other", repr(error)
    return outcome, message, (time.perf_counter() - start) * 1000, result


def plan(ctx, i, name, from_opportunity):
    """The valid calls of process i: every transition of the default workflow
    is exercised, from each of its steps, with and without optional values."""
    develop = {"partner_id": ctx.customer, "budget_amount": 1000.0 + i, "probability": 40 + i % 50,
               "customer_need": "Faster quotes", "proposed_solution": "Our B2B plan"}
    if i % 3 == 0:
        develop["contact_id"] = ctx.contact
    won = {"close_revenue": 5000.0 + i, **({"close_date": "2025-06-30"} if i % 2 else {})}
    lost = {"lost_reason_id": ctx.reasons[i % 2], **({} if i % 3 else {"close_date": "2025-01-15"})}
    qualify = [{"partner_id": ctx.customer, "notes": "Known customer"},
               {"opportunity_name": f"{name} deal", "company_name": f"{name} Co"}, {}][i % 3]
    start = {"team_id": ctx.team} if i % 2 else {}
    if from_opportunity:
        calls = [("start_from_opportunity", start), ("develop", develop)]
    else:
        calls = [("start_from_lead", start), ("disqualify", {"reason": "No budget this quarter"}),
                 ("follow_up", {"note": "Called back: budget next year."}), ("reactivate", {}),
                 ("qualify", qualify)] + ([] if i % 4 == 2 else [("develop", develop)])
    calls += [("close_as_won", won), ("reopen", {})]
    if i % 2:
        return calls + [("close_as_lost", lost)]
    return calls + [("develop", develop), ("close_as_won" if i % 4 == 0 else "close_as_lost",
                                           won if i % 4 == 0 else lost)]


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
    def __init__(self, args, ctx, number, login):
        super().__init__(name=f"client-{number}")
        self.args, self.ctx, self.number, self.login = args, ctx, number, login
        self.rnd = random.Random(args.seed * 1000 + number)
        self.calls = []  # one dict per transition call
        self.processes = {}  # process id -> codes of its successful calls, in order
        self.leads_created = 0
        self.cut = False

    def run(self):
        outcome, message, __, self.call = timed(lambda: connect(self.args, self.login, self.login))
        if outcome != "ok":
            self.calls.append({"valid": True, "kind": "valid", "code": "login", "outcome": outcome,
                               "message": message, "ms": 0, "process": None})
            return
        for i in range(self.args.processes):
            if time.monotonic() > self.ctx.deadline:
                self.cut = True
                return
            self.drive(i)

    def drive(self, i):
        name = f"Load {self.ctx.tag} c{self.number} p{i}"
        from_opportunity = i % 5 == 4
        outcome, message, __, record_id = timed(lambda: self.call("crm.lead", "create", {
            "name": name, "type": "opportunity" if from_opportunity else "lead",
            "team_id": self.ctx.team, "user_id": self.call.uid, "partner_name": f"{name} Co",
            "contact_name": f"Contact c{self.number} p{i}", "email_from": f"c{self.number}p{i}@load.example.com",
        }))
        if outcome != "ok":  # counted as a valid call that failed, not as a transition
            self.calls.append({"valid": True, "kind": "valid", "code": "crm.lead create",
                               "outcome": outcome, "message": message, "ms": 0, "process": None})
            return
        self.leads_created += 1
        process, step = None, None
        for code, values in plan(self.ctx, i, name, from_opportunity):
            if time.monotonic() > self.ctx.deadline:
                self.cut = True
                return
            if self.rnd.random() < 1 / 9:  # 1 invalid per 9 valid: 10% of the calls
                self.attempt(record_id, process, *invalid_call(self.rnd, step, code, values), valid=False)
            outcome, result = self.attempt(record_id, process, "valid", code, values, valid=True)
            if outcome != "ok":
                return  # its step is unknown now: stop driving this process
            if code in STARTS:
                process = result
                self.processes[process] = []
            self.processes[process].append(code)
            step = TO_STEP[code] or step

    def attempt(self, record_id, process, kind, code, values, valid):
        if code in STARTS:
            params = ("crm.sales.process", code, record_id, values)
        else:
            params = ("crm.sales.process", "run_transition", [process], code, values)
        outcome, message, ms, result = timed(lambda: self.call(*params))
        self.calls.append({"valid": valid, "kind": kind, "code": code, "outcome": outcome,
                           "message": message, "ms": ms, "process": process})
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


def read_server_log(path):
    """(ERROR records, {table: serialization conflicts}, retried calls, calls
    out of retries). Odoo logs a serialization failure as an ERROR "bad query"
    and retries the whole call: a conflict is a fact of the load, an error
    only when the retries run out (then the client sees it fail too)."""
    with open(path, encoding="utf-8", errors="replace") as log:
        records = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ )", log.read())
    errors, conflicts, retried, exhausted = [], {}, 0, 0
    for record in records:
        exhausted += "maximum number of tries reached" in record
        retried += "tries left, try again" in record
        level, logger = (record.split(" ", 6)[3:6:2] + ["", ""])[:2]
        if level == "WARNING" and logger.startswith("odoo.addons.crm_sales_process"):
            errors.append(record.splitlines()[0][:300])  # e.g. lead scoring counts given up
            continue
        if level not in ("ERROR", "CRITICAL"):
            continue
        conflict = "could not serialize access" in record or "deadlock detected" in record
        if conflict and "bad query" in record:
            table = re.search(r'(?:UPDATE|INSERT INTO|DELETE FROM|FROM) "(\w+)"', record)
            table = table.group(1) if table else "?"
            conflicts[table] = conflicts.get(table, 0) + 1
        elif not conflict:  # a conflict's last retry is logged again as a failed request: counted above
            errors.append(record.splitlines()[0][:300])
    return errors, conflicts, retried, exhausted


def warm_up(args):
    """Each worker loads the registry on its first request: concurrent calls
    reach every worker before the clock starts, so the figures leave it out."""
    for __ in range(2):
        threads = [threading.Thread(target=lambda: connect(args, "admin", args.admin_password)(
            "res.users", "search_count", [])) for __ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def setup(args, admin):
    ctx = argparse.Namespace(tag=uuid.uuid4().hex[:6])
    ctx.team = admin("crm.team", "create", {"name": f"Load {ctx.tag}", "channel_type": "b2b"})
    group = admin("ir.model.data", "search_read", [("module", "=", "sales_team"),
                                                   ("name", "=", "group_sale_salesman_all_leads")], ["res_id"])
    logins = [f"load_{ctx.tag}_{n}" for n in range(args.clients)]
    admin("res.users", "create", [{"name": f"Load Salesman {n}", "login": login, "password": login,
                                   "group_ids": [(6, 0, [group[0]["res_id"]])]}
                                  for n, login in enumerate(logins)])
    reasons = {r["name"]: r["id"] for r in admin("crm.lost.reason", "search_read",
                                                 [("name", "in", ["Outsold", "Cancelled"])], ["name"])}
    ctx.reasons = [reasons["Outsold"], reasons["Cancelled"]]
    ctx.customer = admin("res.partner", "create", {"name": f"Load {ctx.tag} Customer", "is_company": True})
    ctx.contact = admin("res.partner", "create", {"name": f"Load {ctx.tag} Buyer", "parent_id": ctx.customer})
    # a new B2B channel gets the default workflow: its transitions' names appear in refusals
    ctx.workflow = m2o(admin("crm.team", "read", [ctx.team], ["sales_process_workflow_id"])[0][
        "sales_process_workflow_id"])
    ctx.names = {t["code"]: [t["code"], t["name"]] for t in admin(
        "crm.sales.process.transition", "search_read", [("workflow_id", "=", ctx.workflow)], ["code", "name"])}
    return ctx, logins


def agree(record, step):
    """Problems of a lead/opportunity with the step it is in."""
    found = [f"type {record['type']} in step {step['code']}"] if record["type"] != step["record_type"] else []
    if not {"open": record["active"] and record["won_status"] == "pending",
            "won": record["won_status"] == "won",
            "lost": record["won_status"] == "lost" and not record["active"]}[step["outcome"]]:
        found.append(f"active={record['active']} won_status={record['won_status']} in step {step['code']}")
    if step["record_type"] == "opportunity" and step["outcome"] == "open" and step["stage_id"] \
            and m2o(record["stage_id"]) != m2o(step["stage_id"]):
        found.append(f"stage {record['stage_id']} in step {step['code']}, whose stage is {step['stage_id']}")
    return found


def audit(admin, ctx, clients):
    """Problems of the database after the run, given the successful calls."""
    expected = {pid: codes for client in clients for pid, codes in client.processes.items()}
    pids, problems = sorted(expected), []

    def read(model, domain, fields, **kwargs):
        return {r["id"]: r for r in admin(model, "search_read", domain, fields, context={"active_test": False},
                                          **kwargs)}

    processes = read("crm.sales.process", [("id", "in", pids)],
                     ["step_id", "current_lead_id", "lead_id", "opportunity_id", "lead_ids"])
    steps = read("crm.sales.process.step", [("workflow_id", "=", ctx.workflow)],
                 ["code", "record_type", "outcome", "stage_id"])
    leads = read("crm.lead", ["|", ("team_id", "=", ctx.team), ("sales_process_id", "in", pids)],
                 ["type", "active", "won_status", "stage_id", "sales_process_step_id"])
    codes = {t["id"]: t["code"] for t in admin("crm.sales.process.transition", "search_read",
                                               [("workflow_id", "=", ctx.workflow)], ["code"])}
    logs = {}
    for log in admin("crm.sales.process.log", "search_read", [("process_id", "in", pids)],
                     ["process_id", "transition_id"], order="id"):
        logs.setdefault(log["process_id"][0], []).append(codes.get(m2o(log["transition_id"])))
    started = admin("crm.sales.process", "search_count", [("team_id", "=", ctx.team)])
    if started != len(expected):
        problems.append(f"{started} processes in the load channel, {len(expected)} started by the clients")
    owner = {}
    for pid, done in expected.items():
        process, label = processes.get(pid), f"process {pid}"
        if not process:
            problems.append(f"{label}: missing")
            continue
        step, record = steps[m2o(process["step_id"])], leads.get(m2o(process["current_lead_id"]))
        want_step = [TO_STEP[c] for c in done if TO_STEP[c]][-1]
        if step["code"] != want_step:
            problems.append(f"{label}: in step {step['code']}, the clients drove it to {want_step}")
        if not record:
            problems.append(f"{label}: current record {process['current_lead_id']} not found")
            continue
        problems += [f"{label}: current record {record['id']}: {p}" for p in agree(record, step)]
        if m2o(record["sales_process_step_id"]) != step["id"]:
            problems.append(f"{label}: its record is in step {record['sales_process_step_id']}")
        for lead_id in process["lead_ids"]:
            if lead_id in owner:
                problems.append(f"{label}: record {lead_id} also in process {owner[lead_id]}")
            owner[lead_id] = pid
            old = leads.get(lead_id)
            if old and lead_id != record["id"]:  # a record left behind stays closed, in its final step
                old_step = steps.get(m2o(old["sales_process_step_id"]))
                if not old_step or old_step["outcome"] == "open":
                    problems.append(f"{label}: older record {lead_id} not in a closed step")
                else:
                    problems += [f"{label}: older record {lead_id}: {p}" for p in agree(old, old_step)]
        for ref in ("lead_id", "opportunity_id"):
            if process[ref] and process[ref][0] not in process["lead_ids"]:
                problems.append(f"{label}: its {ref} {process[ref][0]} is not one of its records")
        # reactivate/reopen add a record; qualify turns the lead into the opportunity
        qualified = "qualify" in done
        want = {"lead": done.count("start_from_lead") + done.count("reactivate") - qualified,
                "opportunity": done.count("start_from_opportunity") + qualified + done.count("reopen")}
        have = {t: sum(1 for i in process["lead_ids"] if i in leads and leads[i]["type"] == t) for t in want}
        if have != want or sum(have.values()) != len(process["lead_ids"]):
            problems.append(f"{label}: records {have} (ids {process['lead_ids']}), expected {want}")
        if logs.get(pid, []) != done:
            problems.append(f"{label}: log {logs.get(pid, [])}, successful calls {done}")
    created = sum(c.leads_created for c in clients) + sum(
        done.count("reactivate") + done.count("reopen") for done in expected.values())
    if len(leads) != created:
        problems.append(f"{len(leads)} leads/opportunities in the load channel, expected {created}")
    companies = [p["name"].lower() for p in admin("res.partner", "search_read", [
        ("name", "=like", f"Load {ctx.tag} c%"), ("is_company", "=", True)], ["name"])]
    duplicated = sorted(name for name in set(companies) if companies.count(name) > 1)
    if duplicated:
        problems.append(f"duplicated companies: {duplicated[:10]}")
    return problems, len(expected), len(leads)


def summarize(args, ctx, clients, wall):
    """Print the run's figures; return its errors by kind."""
    every = [c for client in clients for c in client.calls]
    calls = [c for c in every if c["code"] not in ("login", "crm.lead create")]
    valid = [c for c in calls if c["valid"]]
    succeeded = [c for c in valid if c["outcome"] == "ok"]
    refused = [c for c in calls if c["outcome"] == "refused"]
    cut = any(client.cut for client in clients)
    print(("run: CUT SHORT by the %g s deadline" % args.max_seconds if cut else "run: complete")
          + f", {sum(len(c.processes) for c in clients)} of {args.clients * args.processes} processes "
          f"started, wall time {wall:.1f} s")
    print(f"calls: {len(calls)} transition calls, {len(valid)} valid, {len(calls) - len(valid)} invalid "
          f"({100 * (len(calls) - len(valid)) / max(len(calls), 1):.1f}%), "
          f"plus {sum(c.leads_created for c in clients)} lead creates")
    print(f"transitions per second: {len(succeeded) / wall:.1f} "
          f"({len(succeeded)} successful start/run_transition calls in {wall:.1f} s)")

    def p50_p95(selected):
        times = [c["ms"] for c in selected]
        return f"p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms"

    print(f"latency of transition calls: {p50_p95(calls)} "
          f"(successful: {p50_p95(succeeded)}; refused: {p50_p95(refused)})")
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
    for call in every:
        kind = classify(call, ctx.names)
        if kind:
            errors[kind].append(f"{call['kind']} {call['code']} on process {call['process']}: "
                                f"{call['outcome']}: {call['message'][:300]}")
    if args.server_log:
        errors["server log ERROR lines and addon warnings"], conflicts, retried, exhausted = read_server_log(args.server_log)
        print(f"server log: {sum(conflicts.values())} serialization conflicts ("
              + (", ".join(f"{t} {n}" for t, n in sorted(conflicts.items())) or "none")
              + f"), {retried} calls retried by Odoo, {exhausted} out of retries")
    print("errors by kind:")
    for kind, found in errors.items():
        print(f"  {kind}: {len(found)}")
        for line in found[:5]:
            print(f"    - {line}")
    return errors, cut


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=100, help="per client")
    parser.add_argument("--max-seconds", type=float, default=600, help="the clients stop after it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-log", help="the server's log file, searched for ERROR lines")
    args = parser.parse_args()
    admin = connect(args, "admin", args.admin_password)
    ctx, logins = setup(args, admin)
    warm_up(args)
    print(f"load: {args.clients} clients x {args.processes} processes on {args.db} ({args.url}), "
          f"seed {args.seed}, deadline {args.max_seconds:g} s", flush=True)
    clients = [Client(args, ctx, n, login) for n, login in enumerate(logins)]
    begin = time.monotonic()
    ctx.deadline = begin + args.max_seconds
    for client in clients:
        client.start()
    while any(client.is_alive() for client in clients):  # a sign of life every minute
        tick = time.monotonic() + 60
        for client in clients:
            client.join(max(0.0, tick - time.monotonic()))
        done = sum(c["outcome"] == "ok" and c["valid"] and c["code"] in TO_STEP for cl in clients for c in cl.calls)
        print(f"  ... {time.monotonic() - begin:.0f} s: {done} successful transitions", flush=True)
    errors, cut = summarize(args, ctx, clients, time.monotonic() - begin)
    problems, processes, records = audit(admin, ctx, clients)
    print(f"audit of {processes} processes and {records} leads/opportunities: "
          + ("OK: every process agrees with its records (type, active, won status, stage, step), "
             "no duplicated lead, opportunity or company, one log line per successful transition"
             if not problems else f"{len(problems)} PROBLEMS"))
    for problem in problems[:30]:
        print(f"  - {problem}")
    failed = problems or any(errors.values())
    print("result: " + ("FAILED" if failed else "PASSED") + (" (cut short)" if cut else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
