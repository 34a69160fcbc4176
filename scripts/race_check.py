#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Race external XML-RPC clients on the same Sales Processes of a running
server (run it with --workers=2 or more) and audit the outcome: exactly one
success per race, clean refusals (Faults with a message, never a traceback),
no duplicated process, lead, opportunity or partner.

    bin/python scripts/race_check.py --url http://127.0.0.1:8069 --db DB \
        --login admin --password admin --races 20 --clients 2
"""

import argparse
import sys
import threading
import uuid
import xmlrpc.client


def connect(url, db, login, password):
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", allow_none=True)
    uid = common.authenticate(db, login, password, {})
    if not uid:
        sys.exit(f"cannot log in as {login} on {db}")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    return call


def race(args, label, make_call):
    """Run ``make_call(i)`` in args.clients threads released together;
    return [(client, "ok", result) or (client, "refused"/"error", message)]."""
    barrier = threading.Barrier(args.clients)
    results = [None] * args.clients

    def client(i):
        call = connect(args.url, args.db, args.login, args.password)
        barrier.wait()
        try:
            results[i] = (i, "ok", make_call(call, i))
        except xmlrpc.client.Fault as fault:
            message = fault.faultString.strip().splitlines()[-1] if fault.faultString else ""
            kind = (
                "error"
                if "Traceback" in fault.faultString
                and "UserError" not in fault.faultString
                and "AccessError" not in fault.faultString
                else "refused"
            )
            results[i] = (i, kind, message)
        except Exception as error:  # noqa: BLE001 -- reported as an error of the run
            results[i] = (i, "error", repr(error))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def audit(call, tag, team_id, lead_ids, process_ids, problems):
    """Add to ``problems`` what the races left wrong; return {step code: processes}."""
    processes = call("crm.sales.process", "read", process_ids, ["step_code", "log_ids", "lead_ids"])
    companies = call("res.partner", "search_read", [("name", "=like", f"Race {tag} Co %")], ["name"])
    by_process = {}
    for company in companies:
        by_process.setdefault(int(company["name"].split()[3]), []).append(company["name"])
    for process in processes:
        if len(process["log_ids"]) != 2:
            problems.append(f"process {process['id']}: {len(process['log_ids'])} log lines, expected 2")
        if len(process["lead_ids"]) != 1:
            problems.append(f"process {process['id']}: {len(process['lead_ids'])} records, expected 1")
        expected = 1 if process["step_code"] == "new_opportunity" else 0
        if len(by_process.get(process["id"], [])) != expected:
            problems.append(f"process {process['id']}: companies {by_process.get(process['id'])}")
    leads = call("crm.lead", "search_count", [("team_id", "=", team_id), ("active", "in", [True, False])])
    if leads != len(lead_ids):
        problems.append(f"{leads} leads in the race channel, expected {len(lead_ids)}")
    steps = {}
    for process in processes:
        steps[process["step_code"]] = steps.get(process["step_code"], 0) + 1
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    call = connect(args.url, args.db, args.login, args.password)
    tag = uuid.uuid4().hex[:8]
    team_id = call("crm.team", "create", {"name": f"Race {tag}", "channel_type": "b2b"})
    lead_ids = call(
        "crm.lead",
        "create",
        [{"name": f"Race {tag} {i}", "type": "lead", "team_id": team_id} for i in range(args.races)],
    )
    problems = []
    tally = {"ok": 0, "refused": 0, "error": 0}

    def check(label, results):
        kinds = [kind for __, kind, __ in results]
        for kind in kinds:
            tally[kind] += 1
        if kinds.count("ok") != 1:
            problems.append(f"{label}: {kinds.count('ok')} successes: {results}")
        for __, kind, message in results:
            if kind == "error":
                problems.append(f"{label}: unclean failure: {message}")

    # 1. start races: several clients start a process on the same lead
    print(f"{args.races} start races, {args.clients} clients each...", flush=True)
    for lead_id in lead_ids:
        results = race(args, "start", lambda c, i, lead_id=lead_id: c("crm.sales.process", "start_from_lead", lead_id))
        check(f"start lead {lead_id}", results)
    process_ids = call("crm.sales.process", "search", [("lead_id", "in", lead_ids)])
    if len(process_ids) != len(lead_ids):
        problems.append(f"{len(process_ids)} processes for {len(lead_ids)} leads")

    # 2. conflicting transitions: qualify (each client its own company) against
    #    qualify and disqualify on the same process
    print(f"{len(process_ids)} transition races, {args.clients} clients each...", flush=True)
    for n, process_id in enumerate(process_ids):

        def transition(c, i, process_id=process_id, n=n):
            if i % 2 and n % 2:
                return c("crm.sales.process", "run_transition", [process_id], "disqualify", {"reason": "race"})
            return c(
                "crm.sales.process",
                "run_transition",
                [process_id],
                "qualify",
                {"company_name": f"Race {tag} Co {process_id} client {i}"},
            )

        check(f"transition process {process_id}", race(args, "transition", transition))

    steps = audit(call, tag, team_id, lead_ids, process_ids, problems)
    print(f"{len(lead_ids)} start races and {len(process_ids)} transition races, {args.clients} clients each")
    print(f"calls: {tally['ok']} succeeded, {tally['refused']} refused cleanly, {tally['error']} failed uncleanly")
    print(f"steps after the races: {steps}")
    if problems:
        print("PROBLEMS:")
        for problem in problems:
            print(" -", problem)
        return 1
    print("audit: exactly one success per race, no duplicated process, lead, opportunity or partner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
