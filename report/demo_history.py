# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Twelve months of Sales Process history for the demo database.

The processes are made by the engine itself (start_from_lead,
start_from_opportunity, run_transition), batched by transition and values;
then the dates of their log lines, processes and records are moved into the
past with SQL, each process along a timeline drawn from a seeded
random.Random: the same history at every install, relative to its day.
"""

import random
from collections import defaultdict
from datetime import timedelta

from odoo import fields

COMPANIES = [
    "Apex Logistics",
    "Blue Harbor Hotels",
    "Cedar Health Clinics",
    "Delta Print Works",
    "Evergreen Schools",
    "Falcon Engineering",
    "Granite Bank",
    "Horizon Travel",
    "Ironwood Manufacturing",
    "Juniper Labs",
    "Kestrel Airlines",
    "Lumen Architects",
]
SUBJECTS = [
    "Office chairs",
    "Conference tables",
    "Reception desk",
    "Acoustic panels",
    "Standing desks",
    "Storage walls",
    "Lounge area",
    "Training room",
    "Cafeteria furniture",
    "Executive suite",
]
FIRST_NAMES = ["Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
LAST_NAMES = ["Meyer", "Okafor", "Rossi", "Nakamura", "Dubois", "Silva", "Kowalski", "Larsen", "Haddad", "Brennan"]
DISQUALIFY_REASONS = ["No budget this year.", "Only wants a price list.", "Too small for our B2B offer."]
REVENUES = [8000, 12000, 18000, 25000, 40000, 65000]
BUDGETS = [10000, 20000, 45000, 70000]


def _from_new_lead(rng, r, skill, slowness):
    if r < 0.62:
        return [("qualify", None, rng.uniform(1, 12) * slowness)], "new_opportunity"
    reason = rng.randrange(len(DISQUALIFY_REASONS))
    return [("disqualify", reason, rng.uniform(1, 8) * slowness)], "disqualified_lead"


def _from_disqualified_lead(rng, r, skill, slowness):
    if r < 0.25:
        events = [("follow_up", None, rng.uniform(5, 20))]
        if rng.random() < 0.5:
            return [*events, ("reactivate", None, rng.uniform(10, 60))], "new_lead"
        return events, None
    if r < 0.5:
        return [("reactivate", None, rng.uniform(20, 90))], "new_lead"
    return [], None


def _from_new_opportunity(rng, r, skill, slowness):
    if r < 0.55:
        budget = rng.randrange(len(BUDGETS))
        return [("develop", budget, rng.uniform(3, 20) * slowness)], "developed_opportunity"
    if r < 0.55 + 0.22 + skill:
        revenue = rng.randrange(len(REVENUES))
        return [("close_as_won", revenue, rng.uniform(5, 25) * slowness)], "won_opportunity"
    reason = rng.randrange(2)
    return [("close_as_lost", reason, rng.uniform(3, 20) * slowness)], "lost_opportunity"


def _from_developed_opportunity(rng, r, skill, slowness):
    if r < 0.55 + skill:
        revenue = rng.randrange(len(REVENUES))
        return [("close_as_won", revenue, rng.uniform(7, 45) * slowness)], "won_opportunity"
    reason = rng.randrange(2)
    return [("close_as_lost", reason, rng.uniform(5, 35) * slowness)], "lost_opportunity"


def _from_won_opportunity(rng, r, skill, slowness):
    if r < 0.12:
        return [("reopen", None, rng.uniform(15, 60))], "new_opportunity"
    return [], None


def _from_lost_opportunity(rng, r, skill, slowness):
    if r < 0.3:
        return [("reopen", None, rng.uniform(10, 45))], "new_opportunity"
    return [], None


# step -> (rng, a random number, skill, slowness) -> (events, next step or None)
NEXT = {
    "new_lead": _from_new_lead,
    "disqualified_lead": _from_disqualified_lead,
    "new_opportunity": _from_new_opportunity,
    "developed_opportunity": _from_developed_opportunity,
    "won_opportunity": _from_won_opportunity,
    "lost_opportunity": _from_lost_opportunity,
}
OPEN_STEPS = ("new_lead", "new_opportunity", "developed_opportunity")


def _timeline(rng, skill, slowness):
    """[(transition code, value key, days after the previous event)]: one
    process's path through the default workflow."""
    step = "new_opportunity" if rng.random() < 0.2 else "new_lead"
    events = [("start_opportunity" if step == "new_opportunity" else "start", None, 0.0)]
    while step and len(events) < 12:
        if rng.random() < 0.07 and step in OPEN_STEPS:
            break  # stalls: stays open in its step for good
        more, step = NEXT[step](rng, rng.random(), skill, slowness)
        events += more
    return events


def _plans(rng, now, users, teams, count):
    """What each process of the history will be: owner, channel, customer,
    its timeline cut at now, and the dates of its events."""
    plans = []
    for i in range(count):
        user_index = i % len(users)
        team = teams[(i // len(users)) % len(teams)]
        slowness = 1.5 if team == teams[-1] and len(teams) > 1 else 1.0
        skill = (0.1, 0.0, -0.12)[user_index % 3]
        # the oldest first: 12 months back to a few days ago
        start = now - timedelta(days=365 * (count - i - rng.random()) / count)
        events = _timeline(rng, skill, slowness)
        dates, day = [], start
        for __, __, delay in events:
            day = day + timedelta(days=delay)
            if day > now - timedelta(hours=6):
                break
            dates.append(day)
        # every (subject, company) pair once: no two deals of the same name
        company = COMPANIES[i % len(COMPANIES)]
        plans.append(
            {
                "user": users[user_index],
                "team": team,
                "company": company,
                "contact": f"{FIRST_NAMES[i % 10]} {LAST_NAMES[(i // 10 + i) % 10]}",
                "name": f"{SUBJECTS[(i // len(COMPANIES) + i) % len(SUBJECTS)]} for {company}",
                "events": events[: len(dates)],
                "dates": dates,
            }
        )
    return plans


def _start(env, plans):
    """A lead or an opportunity per plan, and its process, started in
    batches (one call per kind, channel and owner)."""
    Partner = env["res.partner"]
    companies = Partner.search([("is_company", "=", True), ("name", "in", COMPANIES)])
    missing = [name for name in COMPANIES if name not in companies.mapped("name")]
    companies |= Partner.create([{"name": name, "is_company": True} for name in missing])
    company_by_name = {company.name: company for company in companies}
    Lead = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True)
    leads = Lead.create(
        [
            {
                "name": plan["name"],
                "type": "opportunity" if plan["events"][0][0] == "start_opportunity" else "lead",
                "team_id": plan["team"].id,
                "user_id": plan["user"].id,
                "partner_name": plan["company"],
                "partner_id": company_by_name[plan["company"]].id
                if plan["events"][0][0] == "start_opportunity"
                else False,
                "contact_name": plan["contact"],
                "email_from": "{}@{}.example.com".format(
                    plan["contact"].lower().replace(" ", "."), plan["company"].lower().replace(" ", "-")
                ),
                "expected_revenue": REVENUES[i % len(REVENUES)],
            }
            for i, plan in enumerate(plans)
        ]
    )
    Process = env["crm.sales.process"].with_context(tracking_disable=True, mail_create_nolog=True)
    starts = defaultdict(list)
    for plan, lead in zip(plans, leads, strict=True):
        starts[plan["events"][0][0], plan["team"].id, plan["user"].id].append(lead.id)
    process_by_lead = {}
    for (code, team_id, user_id), lead_ids in starts.items():
        method = Process.start_from_opportunity if code == "start_opportunity" else Process.start_from_lead
        started = method(lead_ids, {"team_id": team_id, "user_id": user_id})
        process_by_lead.update(zip(lead_ids, started, strict=True))
    return [Process.browse(process_by_lead[lead.id]) for lead in leads]


def _values(env, process, code, key):
    """The values of the transition ``code`` for one process."""
    if code == "disqualify":
        return {"reason": DISQUALIFY_REASONS[key]}
    if code == "follow_up":
        return {"note": "Called again: still no project this quarter."}
    if code == "develop":
        partner = process.current_lead_id.partner_id.commercial_partner_id
        return {"partner_id": partner.id, "budget_amount": BUDGETS[key], "probability": 50}
    if code == "close_as_won":
        return {"close_revenue": REVENUES[key]}
    if code == "close_as_lost":
        reason = ("crm_sales_process.lost_reason_outsold", "crm_sales_process.lost_reason_cancelled")[key]
        return {"lost_reason_id": env.ref(reason).id}
    return {}


def build_demo_history(env, users, teams, seed=10, count=90):
    rng = random.Random(seed)
    now = fields.Datetime.now()
    plans = _plans(rng, now, env["res.users"].browse(users), env["crm.team"].browse(teams), count)
    processes = _start(env, plans)
    # then the transitions in rounds: the k-th event of every process, those
    # with the same transition and values in one call
    Process = env["crm.sales.process"].with_context(tracking_disable=True, mail_create_nolog=True)
    for k in range(1, max(len(plan["events"]) for plan in plans)):
        batches = defaultdict(Process.browse)
        for plan, process in zip(plans, processes, strict=True):
            if k < len(plan["events"]):
                code, key, __ = plan["events"][k]
                batches[code, tuple(sorted(_values(env, process, code, key).items()))] |= process
        for (code, vals), batch in batches.items():
            batch.run_transition(code, dict(vals))
    _date_history(env, plans, processes)


def _date_history(env, plans, processes):
    """Into the past: the log lines of each process, in the order they ran,
    take the dates of its timeline; then the processes and records."""
    process_ids = [process.id for process in processes]
    env.flush_all()
    env.cr.execute(
        "SELECT process_id, array_agg(id ORDER BY id) FROM crm_sales_process_log"
        " WHERE process_id = ANY(%s) GROUP BY process_id",
        [process_ids],
    )
    log_ids = dict(env.cr.fetchall())
    ids, dates = [], []
    for plan, process in zip(plans, processes, strict=True):
        lines = log_ids[process.id]
        assert len(lines) == len(plan["dates"]), "one log line per event of the timeline"
        ids += lines
        dates += plan["dates"]
    env.cr.execute(
        """
        UPDATE crm_sales_process_log log SET date = new.date
          FROM unnest(%s::int[], %s::timestamp[]) AS new(id, date)
         WHERE new.id = log.id
        """,
        [ids, dates],
    )
    env["crm.sales.process.log"]._recompute_step_dates(process_ids)
    # the records as Odoo's own reports read them: created when the process
    # started (or when reactivate/reopen made them), converted, closed
    env.cr.execute(
        """
        UPDATE crm_lead lead SET create_date = d.date, date_open = d.date, write_date = d.date
          FROM (SELECT COALESCE(log.new_lead_id, log.lead_id) AS id, log.date
                  FROM crm_sales_process_log log
                  JOIN crm_sales_process_transition tr ON tr.id = log.transition_id
                 WHERE log.process_id = ANY(%(ids)s)
                   AND (tr.effect = 'start' OR log.new_lead_id IS NOT NULL)) d
         WHERE d.id = lead.id;
        UPDATE crm_lead lead SET date_conversion = log.date
          FROM crm_sales_process_log log
          JOIN crm_sales_process_transition tr ON tr.id = log.transition_id
         WHERE log.process_id = ANY(%(ids)s) AND log.lead_id = lead.id
           AND (tr.effect = 'qualify' OR (tr.effect = 'start' AND lead.type = 'opportunity'));
        UPDATE crm_lead lead SET date_closed = log.date, date_last_stage_update = log.date
          FROM crm_sales_process_log log
          JOIN crm_sales_process_transition tr ON tr.id = log.transition_id
         WHERE log.process_id = ANY(%(ids)s) AND log.lead_id = lead.id
           AND tr.effect IN ('disqualify', 'close_won', 'close_lost');
        UPDATE crm_sales_process process SET create_date = process.date_start
         WHERE process.id = ANY(%(ids)s);
        """,
        {"ids": process_ids},
    )
    env.invalidate_all()
