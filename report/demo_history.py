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
    "Apex Logistics", "Blue Harbor Hotels", "Cedar Health Clinics", "Delta Print Works",
    "Evergreen Schools", "Falcon Engineering", "Granite Bank", "Horizon Travel",
    "Ironwood Manufacturing", "Juniper Labs", "Kestrel Airlines", "Lumen Architects",
]
SUBJECTS = [
    "Office chairs", "Conference tables", "Reception desk", "Acoustic panels", "Standing desks",
    "Storage walls", "Lounge area", "Training room", "Cafeteria furniture", "Executive suite",
]
FIRST_NAMES = ["Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
LAST_NAMES = ["Meyer", "Okafor", "Rossi", "Nakamura", "Dubois", "Silva", "Kowalski", "Larsen", "Haddad", "Brennan"]
DISQUALIFY_REASONS = ["No budget this year.", "Only wants a price list.", "Too small for our B2B offer."]
REVENUES = [8000, 12000, 18000, 25000, 40000, 65000]
BUDGETS = [10000, 20000, 45000, 70000]


def _timeline(rng, skill, slowness):
    """[(transition code, value key, days after the previous event)]: one
    process's path through the default workflow."""
    events = [("start", None, 0.0)]
    step = "new_opportunity" if rng.random() < 0.2 else "new_lead"
    if step == "new_opportunity":
        events[0] = ("start_opportunity", None, 0.0)
    while len(events) < 12:
        r = rng.random()
        if step in ("new_lead", "new_opportunity", "developed_opportunity") and r < 0.07:
            break  # stalls: stays open in its step for good
        r = rng.random()
        if step == "new_lead":
            if r < 0.62:
                events.append(("qualify", None, rng.uniform(1, 12) * slowness))
                step = "new_opportunity"
            else:
                events.append(("disqualify", rng.randrange(len(DISQUALIFY_REASONS)), rng.uniform(1, 8) * slowness))
                step = "disqualified_lead"
        elif step == "disqualified_lead":
            if r < 0.25:
                events.append(("follow_up", None, rng.uniform(5, 20)))
                if rng.random() < 0.5:
                    events.append(("reactivate", None, rng.uniform(10, 60)))
                    step = "new_lead"
                    continue
                break
            if r < 0.5:
                events.append(("reactivate", None, rng.uniform(20, 90)))
                step = "new_lead"
                continue
            break
        elif step == "new_opportunity":
            if r < 0.55:
                events.append(("develop", rng.randrange(len(BUDGETS)), rng.uniform(3, 20) * slowness))
                step = "developed_opportunity"
            elif r < 0.55 + 0.22 + skill:
                events.append(("close_as_won", rng.randrange(len(REVENUES)), rng.uniform(5, 25) * slowness))
                step = "won_opportunity"
            else:
                events.append(("close_as_lost", rng.randrange(2), rng.uniform(3, 20) * slowness))
                step = "lost_opportunity"
        elif step == "developed_opportunity":
            if r < 0.55 + skill:
                events.append(("close_as_won", rng.randrange(len(REVENUES)), rng.uniform(7, 45) * slowness))
                step = "won_opportunity"
            else:
                events.append(("close_as_lost", rng.randrange(2), rng.uniform(5, 35) * slowness))
                step = "lost_opportunity"
        elif step == "won_opportunity":
            if r < 0.12:
                events.append(("reopen", None, rng.uniform(15, 60)))
                step = "new_opportunity"
                continue
            break
        elif step == "lost_opportunity":
            if r < 0.3:
                events.append(("reopen", None, rng.uniform(10, 45)))
                step = "new_opportunity"
                continue
            break
    return events


def build_demo_history(env, users, teams, seed=10, count=90):
    rng = random.Random(seed)
    now = fields.Datetime.now()
    users = env["res.users"].browse(users)
    teams = env["crm.team"].browse(teams)
    Partner = env["res.partner"]
    companies = Partner.search([("is_company", "=", True), ("name", "in", COMPANIES)])
    missing = [name for name in COMPANIES if name not in companies.mapped("name")]
    companies |= Partner.create([{"name": name, "is_company": True} for name in missing])
    company_by_name = {company.name: company for company in companies}
    outsold = env.ref("crm_sales_process.lost_reason_outsold")
    cancelled = env.ref("crm_sales_process.lost_reason_cancelled")

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
        plans.append({
            "user": users[user_index],
            "team": team,
            "company": company,
            "contact": f"{FIRST_NAMES[i % 10]} {LAST_NAMES[(i // 10 + i) % 10]}",
            "name": f"{SUBJECTS[(i // len(COMPANIES) + i) % len(SUBJECTS)]} for {company}",
            "events": events[: len(dates)],
            "dates": dates,
        })

    Lead = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True)
    leads = Lead.create([
        {
            "name": plan["name"],
            "type": "opportunity" if plan["events"][0][0] == "start_opportunity" else "lead",
            "team_id": plan["team"].id,
            "user_id": plan["user"].id,
            "partner_name": plan["company"],
            "partner_id": company_by_name[plan["company"]].id
            if plan["events"][0][0] == "start_opportunity" else False,
            "contact_name": plan["contact"],
            "email_from": "{}@{}.example.com".format(
                plan["contact"].lower().replace(" ", "."), plan["company"].lower().replace(" ", "-")
            ),
            "expected_revenue": REVENUES[i % len(REVENUES)],
        }
        for i, plan in enumerate(plans)
    ])
    Process = env["crm.sales.process"].with_context(tracking_disable=True, mail_create_nolog=True)
    # starts, batched by their values
    starts = defaultdict(list)
    for plan, lead in zip(plans, leads):
        starts[plan["events"][0][0], plan["team"].id, plan["user"].id].append(lead.id)
    process_by_lead = {}
    for (code, team_id, user_id), lead_ids in starts.items():
        method = Process.start_from_opportunity if code == "start_opportunity" else Process.start_from_lead
        for lead_id, process_id in zip(lead_ids, method(lead_ids, {"team_id": team_id, "user_id": user_id})):
            process_by_lead[lead_id] = process_id
    processes = [Process.browse(process_by_lead[lead.id]) for lead in leads]

    def values(process, code, key):
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
            return {"lost_reason_id": (outsold, cancelled)[key].id}
        return {}

    # then the transitions in rounds: the k-th event of every process, those
    # with the same transition and values in one call
    rounds = max(len(plan["events"]) for plan in plans)
    for k in range(1, rounds):
        batches = defaultdict(lambda: Process.browse())
        for plan, process in zip(plans, processes):
            if k < len(plan["events"]):
                code, key, __ = plan["events"][k]
                batches[code, tuple(sorted(values(process, code, key).items()))] |= process
        for (code, vals), batch in batches.items():
            batch.run_transition(code, dict(vals))

    # into the past: the log lines of each process, in the order they ran,
    # take the dates of its timeline
    process_ids = [process.id for process in processes]
    env.flush_all()
    env.cr.execute(
        "SELECT process_id, array_agg(id ORDER BY id) FROM crm_sales_process_log"
        " WHERE process_id = ANY(%s) GROUP BY process_id",
        [process_ids],
    )
    log_ids = dict(env.cr.fetchall())
    ids, dates = [], []
    for plan, process in zip(plans, processes):
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
