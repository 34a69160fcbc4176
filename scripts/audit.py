# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""What bin/load and bin/faults share: XML-RPC clients that try each call
once, with a timeout, and the audit of the database after a run:

- processes: every process agrees with its records (type, active, won
  status, stage, step), no lead, opportunity or company is duplicated, one
  log line per successful transition; a call whose outcome the client does
  not know (the connection dropped, an HTTP 500) is found in the database
  either wholly done or not at all;
- counts: Odoo's lead scoring table holds what Odoo's own rebuild computes
  from the closed leads, so that a closing counted twice or never shows;
- reminders: one overdue-step activity per overdue process, never two;
- the server logs: ERROR lines, split by the time windows a fault covers.
"""

import re
import threading
import time
import xmlrpc.client
from types import SimpleNamespace

STARTS = ("start_from_lead", "start_from_opportunity")
TO_STEP = {
    "start_from_lead": "new_lead",
    "start_from_opportunity": "new_opportunity",
    "qualify": "new_opportunity",
    "disqualify": "disqualified_lead",
    "follow_up": None,
    "reactivate": "new_lead",
    "develop": "developed_opportunity",
    "close_as_won": "won_opportunity",
    "close_as_lost": "lost_opportunity",
    "reopen": "new_opportunity",
}
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Failure|Fault)\b")
SCORING_QUEUE_CRON = ("crm_sales_process", "ir_cron_sales_process_scoring_queue")
REMINDER_CRON = ("crm_sales_process", "ir_cron_remind_overdue")
REMINDER_TYPE = ("crm_sales_process", "mail_activity_type_step_overdue")
# Odoo's own rebuild of the lead scoring table from the closed leads (what its
# daily Predictive Lead Scoring cron does), computed without writing it: run
# as a server action, since XML-RPC reaches no private method.
PLS_REBUILD_CODE = """
frequencies = model._pls_prepare_update_frequency_table(rebuild=True)[0]
action = {"rows": [[team, field, value, counts["won"], counts["lost"]]
                   for team, by_field in frequencies.items()
                   for field, by_value in by_field.items()
                   for value, counts in by_value.items()]}
"""


class Transport(xmlrpc.client.Transport):
    """xmlrpc.client sends a request again when the server drops the
    connection (a killed worker): a transition would then run twice without
    the client knowing. Ours tries once, and gives up after `timeout`
    seconds, so that a hung server is an error, never a hang."""

    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection

    def request(self, host, handler, request_body, verbose=False):
        try:
            return self.single_request(host, handler, request_body, verbose)
        finally:
            self.close()  # a failed request leaves the connection in an unknown state


def connect(url, db, login, password, timeout=180):
    transport = Transport(timeout)
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", transport=transport)
    uid = common.authenticate(db, login, password, {})
    if not uid:
        raise RuntimeError(f"cannot log in as {login} on {db} at {url}")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True, transport=Transport(timeout))

    def call(model, method, *params, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(params), kwargs)

    call.uid, call.url = uid, url
    return call


def timed(fn):
    """Run fn(); return (outcome, message, milliseconds, result, start, end)
    with start and end as time.time(). /xmlrpc/2 sends a UserError
    (ValidationError...) as a Fault of code 2 with its message, an
    AccessError as code 4, anything else as code 1 with the traceback."""
    start, begin, result = time.time(), time.perf_counter(), None
    try:
        result = fn()
        outcome, message = "ok", ""
    except xmlrpc.client.Fault as fault:
        text = str(fault.faultString)
        if fault.faultCode in (2, 4) and "Traceback" not in text:
            outcome, message = "refused", text
        else:  # the exception's line, which names it, rather than the end of its message
            lines = text.strip().splitlines() or [""]
            named = [line for line in lines if EXCEPTION_LINE.match(line)]
            outcome, message = "fault", f"code {fault.faultCode}: {(named or lines)[-1]}"
    except xmlrpc.client.ProtocolError as error:
        outcome, message = "http", f"HTTP {error.errcode} {error.errmsg}"
    except Exception as error:  # noqa: BLE001 -- reported as an error of the run
        outcome, message = "other", repr(error)
    return outcome, message, (time.perf_counter() - begin) * 1000, result, start, time.time()


def unknown_outcome(outcome):
    """A call that failed without a clean refusal may have committed (the
    connection dropped after the commit): only the database can tell."""
    return outcome in ("fault", "http", "other")


def m2o(value):
    return value[0] if value else False


def xmlid(admin, module_name, model=None):
    module, name = module_name
    found = admin("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id", "model"])
    if found and model and found[0]["model"] != model:
        raise RuntimeError(f"{module}.{name} is a {found[0]['model']}, not a {model}")
    return found[0]["res_id"] if found else None


class Expected:
    """What clients know of the processes they drove."""

    def __init__(self):
        self.processes = {}  # process id -> codes of its successful calls, in order
        self.uncertain = {}  # process id -> code of its last call, whose outcome is unknown
        self.uncertain_starts = {}  # lead id -> start code whose outcome is unknown
        self.leads_created = 0
        self.uncertain_creates = 0

    @classmethod
    def merge(cls, parts):
        whole = cls()
        for part in parts:
            whole.processes.update(part.processes)
            whole.uncertain.update(part.uncertain)
            whole.uncertain_starts.update(part.uncertain_starts)
            whole.leads_created += part.leads_created
            whole.uncertain_creates += part.uncertain_creates
        return whole


def agree(record, step):
    """Problems of a lead/opportunity with the step it is in."""
    found = [f"type {record['type']} in step {step['code']}"] if record["type"] != step["record_type"] else []
    if not {
        "open": record["active"] and record["won_status"] == "pending",
        "won": record["won_status"] == "won",
        "lost": record["won_status"] == "lost" and not record["active"],
    }[step["outcome"]]:
        found.append(f"active={record['active']} won_status={record['won_status']} in step {step['code']}")
    if (
        step["record_type"] == "opportunity"
        and step["outcome"] == "open"
        and step["stage_id"]
        and m2o(record["stage_id"]) != m2o(step["stage_id"])
    ):
        found.append(f"stage {record['stage_id']} in step {step['code']}, whose stage is {step['stage_id']}")
    return found


def audit_processes(admin, team, workflow, expected, company_prefix):
    """Problems of the processes of the channel `team` after a run, and
    {process id: True/False} for the calls of unknown outcome: found done
    in the database or not."""
    run = read_run(admin, team, workflow, expected)
    problems, resolved, owner, reopened = [], {}, {}, 0
    if len(run.in_channel) != len(run.done):
        problems.append(f"{len(run.in_channel)} processes in the channel, {len(run.done)} started by the clients")
    for pid, known in run.done.items():
        process, label, log = run.processes.get(pid), f"process {pid}", run.logs.get(pid, [])
        if not process:
            problems.append(f"{label}: missing")
            continue
        # all or nothing: the log (written in the transition's transaction)
        # says which way a call of unknown outcome went
        done = known
        if pid in run.uncertain:
            resolved[pid] = log == known + [run.uncertain[pid]]
            done = known + [run.uncertain[pid]] if resolved[pid] else known
        if log != done:
            problems.append(
                f"{label}: log {log}, successful calls {done}"
                + (f" (and {run.uncertain[pid]} of unknown outcome)" if pid in run.uncertain else "")
            )
        if not done:
            problems.append(f"{label}: exists, though no start of it succeeded")
            continue
        problems += [f"{label}: {p}" for p in process_problems(pid, done, process, run, owner)]
        reopened += done.count("reactivate") + done.count("reopen")
    created = expected.leads_created + reopened
    if not created <= len(run.leads) <= created + expected.uncertain_creates:
        problems.append(
            f"{len(run.leads)} leads/opportunities in the channel, expected {created}"
            + (f" to {created + expected.uncertain_creates}" if expected.uncertain_creates else "")
        )
    companies = [
        p["name"].lower()
        for p in admin(
            "res.partner", "search_read", [("name", "=like", f"{company_prefix}%"), ("is_company", "=", True)], ["name"]
        )
    ]
    duplicated = sorted(name for name in set(companies) if companies.count(name) > 1)
    if duplicated:
        problems.append(f"duplicated companies: {duplicated[:10]}")
    return problems, resolved, len(run.done), len(run.leads)


def read_run(admin, team, workflow, expected):
    """What the database holds of the run's processes, their records, steps and logs."""

    def read(model, domain, fields, **kwargs):
        return {
            r["id"]: r for r in admin(model, "search_read", domain, fields, context={"active_test": False}, **kwargs)
        }

    run = SimpleNamespace(done=dict(expected.processes), uncertain=dict(expected.uncertain))
    run.in_channel = read("crm.sales.process", [("team_id", "=", team)], ["lead_id", "opportunity_id"])
    for pid, process in run.in_channel.items():  # started, though the client saw no answer
        origin = m2o(process["lead_id"]) or m2o(process["opportunity_id"])
        if pid not in run.done and origin in expected.uncertain_starts:
            run.done[pid], run.uncertain[pid] = [], expected.uncertain_starts[origin]
    pids = sorted(set(run.done) | set(run.in_channel))
    run.processes = read(
        "crm.sales.process",
        [("id", "in", pids)],
        ["step_id", "current_lead_id", "lead_id", "opportunity_id", "lead_ids"],
    )
    run.steps = read(
        "crm.sales.process.step", [("workflow_id", "=", workflow)], ["code", "record_type", "outcome", "stage_id"]
    )
    run.leads = read(
        "crm.lead",
        ["|", ("team_id", "=", team), ("sales_process_id", "in", pids)],
        ["type", "active", "won_status", "stage_id", "sales_process_step_id"],
    )
    codes = {
        t["id"]: t["code"]
        for t in admin("crm.sales.process.transition", "search_read", [("workflow_id", "=", workflow)], ["code"])
    }
    run.logs = {}
    for log in admin(
        "crm.sales.process.log",
        "search_read",
        [("process_id", "in", pids)],
        ["process_id", "transition_id"],
        order="id",
    ):
        run.logs.setdefault(log["process_id"][0], []).append(codes.get(m2o(log["transition_id"])))
    return run


def process_problems(pid, done, process, run, owner):
    """Problems of one process with its records, given its successful calls
    `done`; `owner`: {record id: process id} of the processes seen so far."""
    problems = []
    step, record = run.steps[m2o(process["step_id"])], run.leads.get(m2o(process["current_lead_id"]))
    want_step = [TO_STEP[c] for c in done if TO_STEP[c]][-1]
    if step["code"] != want_step:
        problems.append(f"in step {step['code']}, the clients drove it to {want_step}")
    if not record:
        return [*problems, f"current record {process['current_lead_id']} not found"]
    problems += [f"current record {record['id']}: {p}" for p in agree(record, step)]
    if m2o(record["sales_process_step_id"]) != step["id"]:
        problems.append(f"its record is in step {record['sales_process_step_id']}")
    for lead_id in process["lead_ids"]:
        if lead_id in owner:
            problems.append(f"record {lead_id} also in process {owner[lead_id]}")
        owner[lead_id] = pid
        old = run.leads.get(lead_id)
        if old and lead_id != record["id"]:  # a record left behind stays closed, in its final step
            old_step = run.steps.get(m2o(old["sales_process_step_id"]))
            if not old_step or old_step["outcome"] == "open":
                problems.append(f"older record {lead_id} not in a closed step")
            else:
                problems += [f"older record {lead_id}: {p}" for p in agree(old, old_step)]
    for ref in ("lead_id", "opportunity_id"):
        if process[ref] and process[ref][0] not in process["lead_ids"]:
            problems.append(f"its {ref} {process[ref][0]} is not one of its records")
    # reactivate/reopen add a record; qualify turns the lead into the opportunity
    qualified = "qualify" in done
    want = {
        "lead": done.count("start_from_lead") + done.count("reactivate") - qualified,
        "opportunity": done.count("start_from_opportunity") + qualified + done.count("reopen"),
    }
    have = {t: sum(1 for i in process["lead_ids"] if i in run.leads and run.leads[i]["type"] == t) for t in want}
    if have != want or sum(have.values()) != len(process["lead_ids"]):
        problems.append(f"records {have} (ids {process['lead_ids']}), expected {want}")
    return problems


def drain_scoring_queue(admin):
    """Counts written to the addon's scoring queue by a transition whose
    server died before counting them are counted by a cron: run it, then
    the queue must be empty. Returns (problems, note)."""
    cron = xmlid(admin, SCORING_QUEUE_CRON, "ir.cron")
    if not cron:
        return [], (
            "no scoring queue in this version of the addon: a count lost between a transition's "
            "commit and its count would show below, and nothing recovers it"
        )
    waiting = admin("crm.sales.process.scoring.queue", "search_count", [])
    for attempt in range(10):
        outcome, message, *__ = timed(lambda: admin("ir.cron", "method_direct_trigger", [cron]))
        if outcome == "ok":
            break
        if "already executing" not in message or attempt == 9:
            return [f"the scoring queue cron failed: {message[:300]}"], ""
        time.sleep(1)  # a cron worker is running it: wait for its commit
    left = admin("crm.sales.process.scoring.queue", "search_count", [])
    return (
        [f"{left} rows left in the scoring queue after its cron ran"] if left else [],
        f"{waiting} closings waiting in the scoring queue, counted by its cron, none left",
    )


def check_counts(admin):
    """Problems of Odoo's lead scoring table against what Odoo's own rebuild
    computes from the closed leads of every channel (won and lost counts of
    each field value, 0.1 added to each as Odoo does), and a summary."""
    action = admin(
        "ir.actions.server",
        "create",
        {
            "name": "bin/load audit: lead scoring rebuild (read only)",
            "state": "code",
            "model_id": admin("ir.model", "search", [("model", "=", "crm.lead")])[0],
            "code": PLS_REBUILD_CODE,
        },
    )
    try:
        rebuilt = admin("ir.actions.server", "run", [action])["rows"]
    finally:
        admin("ir.actions.server", "unlink", [action])
    want = {(team or False, field, value): (won + 0.1, lost + 0.1) for team, field, value, won, lost in rebuilt}
    have = {
        (m2o(row["team_id"]), row["variable"], row["value"]): (row["won_count"], row["lost_count"])
        for row in admin(
            "crm.lead.scoring.frequency", "search_read", [], ["team_id", "variable", "value", "won_count", "lost_count"]
        )
    }
    problems = []
    for key in sorted(set(want) | set(have), key=str):
        counted, computed = have.get(key, (0.0, 0.0)), want.get(key, (0.0, 0.0))
        if any(abs(a - b) > 1e-6 for a, b in zip(counted, computed, strict=True)):
            team, field, value = key
            problems.append(
                f"lead scoring count of team {team} {field}={value}: won/lost "
                f"{counted[0]:g}/{counted[1]:g} in the table, {computed[0]:g}/{computed[1]:g} "
                "from the closed leads"
            )
    won = admin("crm.lead", "search_count", [("won_status", "=", "won")], context={"active_test": False})
    lost = admin("crm.lead", "search_count", [("won_status", "=", "lost")], context={"active_test": False})
    return problems, f"{len(have)} lead scoring rows agree with Odoo's rebuild from {won} won and {lost} lost leads"


def check_reminders(admin, overdue, fresh=()):
    """Problems: an overdue process without exactly one overdue-step
    activity on its current record, a fresh one with any."""
    activity_type = xmlid(admin, REMINDER_TYPE, "mail.activity.type")
    pids = sorted({*overdue, *fresh})
    current = {
        p["id"]: m2o(p["current_lead_id"])
        for p in admin("crm.sales.process", "search_read", [("id", "in", pids)], ["current_lead_id"])
    }
    per_record = {}
    for activity in admin(
        "mail.activity",
        "search_read",
        [
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", list(current.values())),
            ("activity_type_id", "=", activity_type),
        ],
        ["res_id"],
        context={"active_test": False},
    ):
        per_record[activity["res_id"]] = per_record.get(activity["res_id"], 0) + 1
    counts = {pid: per_record.get(current.get(pid), 0) for pid in pids}
    problems = [f"overdue process {pid}: {counts[pid]} reminders" for pid in overdue if counts[pid] != 1]
    problems += [f"process {pid}, not overdue: {counts[pid]} reminders" for pid in fresh if counts[pid]]
    return problems, counts


def audit(admin, team, workflow, expected, company_prefix):
    """The whole audit: processes, then the counts. Returns (problems,
    lines to print, resolved calls of unknown outcome)."""
    problems, resolved, processes, records = audit_processes(admin, team, workflow, expected, company_prefix)
    lines = [
        f"audit of {processes} processes and {records} leads/opportunities: "
        + (
            "OK: every process agrees with its records (type, active, won status, stage, step), "
            "no duplicated lead, opportunity or company, one log line per successful transition"
            if not problems
            else f"{len(problems)} PROBLEMS"
        )
    ]
    if resolved:
        lines.append(
            f"  calls of unknown outcome: {sum(resolved.values())} found done, "
            f"{len(resolved) - sum(resolved.values())} found not done, each wholly"
        )
    queue_problems, note = drain_scoring_queue(admin)
    count_problems, summary = check_counts(admin)
    lines.append(
        "counts: "
        + (note + "; " if note else "")
        + (f"OK: {summary}" if not count_problems else f"{len(count_problems)} PROBLEMS ({summary})")
    )
    problems += queue_problems + count_problems
    lines += [f"  - {problem}" for problem in problems[:30]]
    return problems, lines, resolved


LOG_RECORD = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ )")


def read_server_log(path, windows=(), grace=5.0):
    """What a server log says: .errors (ERROR records outside the windows),
    .in_window (those in them), .conflicts ({table: serialization
    conflicts}), .retried and .exhausted (calls retried by Odoo, calls out
    of retries), .crons (cron jobs failed on a conflict).

    `windows`: (start, end) time.time() pairs of a fault; a record up to
    `grace` seconds after one is counted in it (a call caught in it fails a
    moment later). Odoo logs a serialization failure as an ERROR "bad
    query" and retries the whole call: a conflict is a fact of the load,
    an error only when the retries run out (then the client sees it too).
    A cron job that fails on one is not retried: Odoo runs it again at its
    next time; it is listed apart."""
    with open(path, encoding="utf-8", errors="replace") as log:
        records = LOG_RECORD.split(log.read())
    found = SimpleNamespace(errors=[], in_window=[], conflicts={}, retried=0, exhausted=0, crons=[])
    for record in records:
        found.exhausted += "maximum number of tries reached" in record
        found.retried += "tries left, try again" in record
        level, logger = (record.split(" ", 6)[3:6:2] + ["", ""])[:2]
        line = record.splitlines()[0][:300] if record.strip() else ""
        if level == "WARNING" and logger.startswith("odoo.addons.crm_sales_process"):
            found.errors.append(line)  # e.g. lead scoring counts given up
            continue
        if level not in ("ERROR", "CRITICAL"):
            continue
        conflict = "could not serialize access" in record or "deadlock detected" in record
        cron = re.search(r"Job '(.+)' \(\d+\) server action #\d+ failed", line)
        if conflict and "bad query" in record:
            table = re.search(r'(?:UPDATE|INSERT INTO|DELETE FROM|FROM) "?(\w+)"?', record)
            table = table.group(1) if table else "?"
            found.conflicts[table] = found.conflicts.get(table, 0) + 1
        elif conflict and cron:
            found.crons.append(cron.group(1))
        elif not conflict:  # a conflict's last retry is logged again as a failed request: counted above
            at = log_time(record)
            inside = any(start <= at <= end + grace for start, end in windows)
            (found.in_window if inside else found.errors).append(line + _exception(record))
    return found


def log_time(record):
    # Odoo's log format starts with the local time, to the millisecond
    stamp = record[:23]
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:23]) / 1000


def _exception(record):
    """The last line of a traceback, which names the exception."""
    lines = [line for line in record.strip().splitlines()[1:] if line and not line.startswith(" ")]
    return f" [{lines[-1][:160]}]" if lines else ""


def concurrently(*calls):
    """Run the calls at the same moment, each in a thread; return their timed() results."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, fn):
        barrier.wait()
        results[index] = timed(fn)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
