# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Property-based tests (issue 5): random sequences of transitions with random
values, valid and not, on random processes.

Each hypothesis example starts 2 to 4 processes (from leads of several kinds and
from opportunities, several of them sharing a customer) in a savepoint rolled
back at its end, then runs random transitions on one process or on a batch of
two: a transition code of the default workflow or an unknown one, with values
valid, valid but for one fault (a wrong type, a negative amount, a probability
out of 0..100, an unknown or archived record, a required value missing, an
unknown key), any mix, or not a dictionary. An oracle written from DESIGN.md
section 1 says whether the call must be accepted; after each call:

- the engine agrees with the oracle (accepted <=> valid per the spec);
- refused: a UserError (or a subclass), and nothing changed: the rows of the
  processes and of all their records (closed ones included), and the counts
  of leads, partners, log lines and messages;
- accepted: every process of the call is in the to-step of the table
  (follow_up stays), has one more log line describing the call, its current
  record carries the transition's effect, and the process and its records
  agree (assertConsistent; every record but the current one is closed);
- records left in a closed step (disqualified lead, won or lost opportunity)
  never change afterwards: reactivate and reopen create a new record.

The test also asserts that the sequences reached every transition (accepted
and refused, alone and in batches) and every kind of refusal as its one
reason, so that a change of the generators cannot make it pass vacuously.

Where the spec is silent the oracle follows the engine: develop takes any
partner as customer (a person counts for its company); qualify with both a
customer and a company name uses the customer; close_as_lost takes any active
lost reason; only None, False and "" are empty values (blank text too, and
notes of empty HTML; 0 is not a record id); an empty value means empty: a
default fills only a key left out (the customer of qualify, given as either
partner_id or company_name, defaults only when neither key is given), a
required value given empty is refused, an optional one given empty is written
empty; a date is a date or a "YYYY-MM-DD" string; reopen resets the
probability to Odoo's automated one; Odoo's lead scoring may rescore a closed
record (automated_probability, see RESCORED).

Deterministic (derandomize) and bounded; no shrinking, for a failing run to
stay short: for a minimal example of a failure, add Phase.shrink to
SETTINGS.phases and run again.
"""

import copy
import datetime
import math
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import html2plaintext

from .common import SalesProcessCase

# DESIGN.md section 1: the transitions of the default workflow.
FROM_STEPS = {
    "qualify": ("new_lead",),
    "disqualify": ("new_lead",),
    "follow_up": ("disqualified_lead",),
    "reactivate": ("disqualified_lead",),
    "develop": ("new_opportunity",),
    "close_as_won": ("new_opportunity", "developed_opportunity"),
    "close_as_lost": ("new_opportunity", "developed_opportunity"),
    "reopen": ("won_opportunity", "lost_opportunity"),
}
TO_STEP = {
    "qualify": "new_opportunity",
    "disqualify": "disqualified_lead",
    "follow_up": "disqualified_lead",
    "reactivate": "new_lead",
    "develop": "developed_opportunity",
    "close_as_won": "won_opportunity",
    "close_as_lost": "lost_opportunity",
    "reopen": "new_opportunity",
}
# The values each transition takes (True: required, bold in the table).
# opportunity_name and close_date are required but have a default.
VALUE_KEYS = {
    "qualify": {"opportunity_name": True, "partner_id": False, "company_name": False, "notes": False},
    "disqualify": {"reason": False},
    "follow_up": {"note": True},
    "reactivate": {},
    "develop": {
        "contact_id": False,
        "partner_id": True,
        "budget_amount": False,
        "probability": False,
        "customer_need": False,
        "proposed_solution": False,
    },
    "close_as_won": {"close_revenue": True, "close_date": True},
    "close_as_lost": {"lost_reason_id": True, "close_date": True},
    "reopen": {},
}
DEFAULTED = {"opportunity_name", "close_date"}
KEY_TYPES = {
    "opportunity_name": "text",
    "company_name": "text",
    "notes": "text",
    "reason": "text",
    "note": "text",
    "customer_need": "text",
    "proposed_solution": "text",
    "partner_id": "res.partner",
    "contact_id": "res.partner",
    "lost_reason_id": "crm.lost.reason",
    "budget_amount": "number",
    "probability": "number",
    "close_revenue": "number",
    "close_date": "date",
}
CODES = list(FROM_STEPS)
UNKNOWN_CODES = ["fly_to_the_moon", "start_from_lead", "start_from_opportunity", "", None]
CLOSED_STEPS = {"disqualified_lead", "won_opportunity", "lost_opportunity"}
NEW_RECORD = {"reactivate", "reopen"}
# Odoo's predictive lead scoring recomputes it on any record, closed ones
# included, when a field it depends on is recomputed (e.g. the email of the
# record's partner): the guard of the addon lets Odoo change it on a read-only
# record (SYSTEM_FIELDS in models/crm_lead.py). Not a business value of the
# closed record: left out of "closed records never change".
RESCORED = {"automated_probability"}
CLOSING = {"disqualify", "close_as_won", "close_as_lost"}
# Why the spec refuses a call (the oracle's words), in groups: the generated
# sequences must meet each group as the one reason of a refusal.
REASONS = {
    "values not a dict": "values not a dict",
    "unknown code": "unknown code",
    "unknown key": "unknown key",
    "wrong type": "wrong type",
    "no such date": "wrong type",
    "not finite": "out of range",
    "negative": "out of range",
    "probability over 100": "out of range",
    "no such record": "no such record",
    "archived record": "no such record",
    "not from this step": "not from this step",
    "required value missing": "required value missing",
    "required value given empty": "explicit empty value",
    "customer not a company": "customer rules",
    "no customer to qualify with": "customer rules",
    "lead's contact of another company": "customer rules",
    "contact of another customer": "customer rules",
}
# Records of a contact of the customer company come twice as often: processes
# sharing a customer are where one process can disturb another.
KINDS = [
    "lead_of_contact",
    "lead",
    "opportunity_of_contact",
    "opportunity",
    "lead_of_contact",
    "lead_bare",
    "lead_of_person",
    "opportunity_of_contact",
]

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    # not the default ./.hypothesis: the tests run in the checkout of the addon
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "crm_sales_process_hypothesis")

NOT_FOUND = 99999999
DROP = object()  # a value left out


def _mix(*weighted):
    """One of the (weight, strategy) pairs' strategies, drawn in proportion to
    its weight."""
    weighted = sorted(weighted, key=lambda pair: -pair[0])
    heaviest, others = weighted[0], weighted[1:]
    slots = [0] * (heaviest[0] - heaviest[0] // 2)
    for index, (weight, __) in enumerate(others, start=1):
        slots += [index] * weight
    slots += [0] * (heaviest[0] // 2)
    strategies = [strategy for __, strategy in weighted]
    return st.sampled_from(slots).flatmap(lambda index: strategies[index])


def _changes(before, after):
    """[(id, column, before, after)] between two {id: row} of one table."""
    return [
        (row_id, column, row.get(column), after.get(row_id, {}).get(column))
        for row_id, row in before.items()
        for column in set(row) | set(after.get(row_id, {}))
        if row.get(column) != after.get(row_id, {}).get(column)
    ]


def _pools(case):
    """{key: {"good", "empty", "faults"}}: values of the right type (the
    oracle decides whether they fit), empty ones, and {why refused: values}.
    {(code, key): {"good", "faults"}} overrides them for one transition (its
    faults are added: values of the right type against a rule of the spec)."""
    text = {
        "good": ["Call back in May", "  spaced out  ", "Ünïcødé ✓ 100%", "two\nlines"],
        "empty": [None, False, "", "   "],
        "faults": {"wrong type": [42, True, ["a note"], {"a": 1}, 1.5]},
    }

    def number(good, **faults):
        return {
            "good": good,
            "empty": [None, False],
            "faults": {
                "wrong type": ["1000", True, [5]],
                "not finite": [float("nan"), float("inf"), float("-inf")],
                "negative": [-0.01, -5],
                **faults,
            },
        }

    def record(good, archived):
        return {
            "good": good,
            "empty": [None, False],
            "faults": {
                "wrong type": [0, -3, "Globex", True, float(good[0])],
                "no such record": [NOT_FOUND],
                "archived record": archived,
            },
        }

    partners = [case.customer.id, case.initrode.id, case.customer_contact.id, case.initrode_contact.id, case.lonely.id]
    archived_partners = [case.archived_company.id, case.archived_person.id]
    return {
        "opportunity_name": dict(text, good=["Big deal SP", "  Trimmed deal SP  "]),
        "company_name": dict(
            text,
            good=[
                "Initech SP",
                "INITECH sp",
                "globex sp corporation",
                "Umbrella SP",
                "100% Co_SP",
                "  Hooli SP  ",
                case.archived_company.name,
            ],
        ),
        "notes": dict(
            text, good=["Big one", "<p>Big one</p>", "  Big one  "], empty=[None, False, "", "   ", "<p><br></p>"]
        ),
        "reason": text,
        "note": text,
        "customer_need": text,
        "proposed_solution": text,
        "partner_id": record(partners, archived_partners),
        "contact_id": record(
            [case.customer_contact.id, case.initrode_contact.id, case.lonely.id, case.customer.id],
            archived_partners,
        ),
        "lost_reason_id": record([case.outsold.id, case.cancelled.id, case.disqualified.id], [case.archived_reason.id]),
        "budget_amount": number([0, 0.0, 12000, 99.99, 1e6, 7]),
        "probability": number([0, 40, 100, 55.5, 0.0], **{"probability over 100": [100.5, 1000]}),
        "close_revenue": number([0, 1, 7000.5, 123456.78]),
        "close_date": {
            "good": ["2025-06-30", "2030-01-01", datetime.date(2024, 2, 29)],
            "empty": [None, False, ""],
            "faults": {
                "wrong type": ["31/12/2026", "tomorrow", 20260115, ["2025-06-30"], 2025.5],
                "no such date": ["2026-13-01", "2025-02-30"],
            },
        },
        # qualify's customer is a company; develop's contact belongs to the customer
        ("qualify", "partner_id"): {
            "good": [case.customer.id, case.initrode.id],
            "faults": {"customer not a company": [case.customer_contact.id, case.lonely.id]},
        },
        ("develop", "partner_id"): {"good": [case.customer.id, case.customer_contact.id]},
        ("develop", "contact_id"): {
            "good": [case.customer_contact.id, case.customer.id],
            "faults": {"contact of another customer": [case.initrode_contact.id, case.lonely.id]},
        },
    }


class _TransitionMachine(RuleBasedStateMachine):
    """One hypothesis example: a few processes, then random transitions."""

    def __init__(self, case, pools, stats):
        super().__init__()
        self.case = case
        self.env = case.env
        self.pools = pools
        self.stats = stats
        # every example starts from the state of setUpClass
        self.env.flush_all()
        self.savepoint = self.env.cr.savepoint()
        self.processes = []  # crm.sales.process, in the salesman's env
        self.model = {}  # process id: {"step", "current" (lead id), "records" (lead ids)}
        self.closed = {}  # lead id: its stored values when it was closed

    def teardown(self):
        self.savepoint.close(rollback=True)
        self.env.invalidate_all()

    # -- strategies ----------------------------------------------------

    def _good(self, code, key):
        return st.sampled_from(self.pools.get((code, key), self.pools[key])["good"])

    def _empty(self, key):
        return st.sampled_from(self.pools[key]["empty"])

    def _faults(self, code, key):
        """{why refused: values} of ``key`` for ``code``."""
        return {**self.pools[key]["faults"], **self.pools.get((code, key), {}).get("faults", {})}

    def _anything(self, code, key):
        values = [value for values in self._faults(code, key).values() for value in values]
        return _mix((2, self._good(code, key)), (1, self._empty(key)), (2, st.sampled_from(values)))

    def _values_strategy(self, code):
        """Values for ``code``: valid ones, valid ones but for one fault (a
        refused value, a required value missing or empty, an unknown key),
        any mix, or not a dictionary at all."""
        spec = VALUE_KEYS.get(code, {})
        required = [key for key, needed in spec.items() if needed and key not in DEFAULTED]
        defaulted = [key for key in spec if key in DEFAULTED]
        # a value left out takes its default; an optional one may be given empty
        valid = st.fixed_dictionaries(
            {key: self._good(code, key) for key in required},
            optional={
                key: self._good(code, key)
                if key in defaulted
                else _mix((2, self._good(code, key)), (1, self._empty(key)))
                for key in spec
                if key not in required
            },
        )
        foreign = sorted(set(KEY_TYPES) - set(spec))
        unknown = _mix(
            (1, st.just({"bonus": 1})),
            (2, st.sampled_from(foreign).flatmap(lambda key: self._good(code, key).map(lambda value: {key: value}))),
        )
        faults = [(1, unknown)]
        # a refused value: each kind of fault alike, then a key it applies to
        by_reason = {}
        for key in spec:
            for reason, values in self._faults(code, key).items():
                by_reason.setdefault(reason, []).extend((key, value) for value in values)
        if by_reason:
            faults.append(
                (
                    4,
                    st.sampled_from(sorted(by_reason)).flatmap(
                        lambda reason: st.sampled_from(by_reason[reason]).map(lambda pair: {pair[0]: pair[1]})
                    ),
                )
            )
        if required:
            faults.append(
                (
                    1,
                    st.sampled_from(required).flatmap(
                        lambda key: _mix(
                            (1, st.just({key: DROP})), (1, self._empty(key).map(lambda value: {key: value}))
                        )
                    ),
                )
            )
        if defaulted:  # given empty: not replaced by its default
            faults.append(
                (1, st.sampled_from(defaulted).flatmap(lambda key: self._empty(key).map(lambda value: {key: value})))
            )
        one_fault = st.tuples(valid, _mix(*faults)).map(
            lambda pair: {key: value for key, value in {**pair[0], **pair[1]}.items() if value is not DROP}
        )
        mixed = st.tuples(
            st.fixed_dictionaries({}, optional={key: self._anything(code, key) for key in spec}),
            _mix((3, st.just({})), (1, unknown)),
        ).map(lambda pair: {**pair[0], **pair[1]})
        not_a_dict = st.sampled_from([None, False, [("close_revenue", 5)], "note", 5, ("note", "x")])
        return _mix((5, valid), (4, one_fault), (1, mixed), (1, not_a_dict))

    # -- setup ---------------------------------------------------------

    def _lead_values(self, kind, index):
        """The values of a record of ``kind`` (those of SalesProcessCase._lead)."""
        case = self.case
        values = {
            "name": f"Deal {index} SP",
            "type": "opportunity" if kind.startswith("opportunity") else "lead",
            "team_id": case.team.id,
            "user_id": case.salesman.id,
            "partner_name": "Initech SP",
            "contact_name": "Peter Gibbons",
            "email_from": f"deal{index}@initech.example.com",
            "description": "<p>Needs a new website</p>",
            "expected_revenue": 5000,
        }
        if kind == "lead_bare":  # no customer to default to
            values.update(partner_name=False, contact_name=False, email_from=False)
        elif kind in ("lead_of_contact", "opportunity_of_contact"):
            values.update(partner_id=case.customer_contact.id, partner_name=False)
        elif kind == "lead_of_person":  # a person of no company, attached on qualify
            person = self.env["res.partner"].create({"name": f"Person {index} SP"})
            values.update(partner_id=person.id, partner_name=False, contact_name=False)
        return values

    @initialize(kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=4))
    def start_processes(self, kinds):
        records = self.env["crm.lead"].create([self._lead_values(kind, index) for index, kind in enumerate(kinds)])
        Process = self.env["crm.sales.process"].with_user(self.case.salesman)
        leads = records.filtered(lambda record: record.type == "lead")
        opportunities = records - leads
        processes = Process.browse(
            (Process.start_from_lead(leads.ids) if leads else [])
            + (Process.start_from_opportunity(opportunities.ids) if opportunities else [])
        )
        for process in processes:
            record = process.current_lead_id
            step = "new_lead" if record.type == "lead" else "new_opportunity"
            self.case.assertEqual(process.step_code, step)
            self.case.assertConsistent(process)
            self.processes.append(process)
            self.model[process.id] = {"step": step, "current": record.id, "records": {record.id}}
        self.case.assertEqual(len(self.processes), len(kinds))

    # -- the oracle ----------------------------------------------------

    def _clean(self, key, value):
        """('empty'|'ok', normalized value), or (why it is refused, None), per
        the value rules."""
        if value is None or value is False or (isinstance(value, str) and value == ""):
            return "empty", None
        kind = KEY_TYPES[key]
        if kind in ("text", "number", "date"):
            return getattr(self, f"_clean_{kind}")(key, value)
        # a record id: an existing, active record
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return "wrong type", None
        record = self.env[kind].with_context(active_test=False).browse(value).exists()
        if not record:
            return "no such record", None
        if not record.active:
            return "archived record", None
        return "ok", record

    def _clean_text(self, key, value):
        if not isinstance(value, str):
            return "wrong type", None
        if key == "notes" and not html2plaintext(value).strip():
            return "empty", None  # HTML with no text
        return ("ok", value.strip()) if value.strip() else ("empty", None)

    def _clean_number(self, key, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "wrong type", None
        if not math.isfinite(value):
            return "not finite", None
        if value < 0:
            return "negative", None
        if key == "probability" and value > 100:
            return "probability over 100", None
        return "ok", float(value)

    def _clean_date(self, key, value):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return "ok", value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return "ok", datetime.date.fromisoformat(value)
            except ValueError:
                return "no such date", None
        return "wrong type", None

    def _company_for(self, record, clean, given):
        """The company a qualify resolves to: a res.partner, a name (a new
        company), or None (no customer). ``given``: the keys of the call."""
        if "partner_id" in clean:
            partner = clean["partner_id"]
            return partner if partner.is_company else None
        name = clean.get("company_name")
        if not name and {"partner_id", "company_name"} & given:
            return None  # given empty: no default
        if not name:
            company = record.partner_id.commercial_partner_id
            if company.is_company:
                return company
            name = (record.partner_name or "").strip()
            if not name:
                return None
        companies = self.env["res.partner"].search([("is_company", "=", True)], order="id")
        match = companies.filtered(lambda partner: partner.name.lower() == name.lower())[:1]
        return match or name

    def _expect(self, process, code, values):
        """What the accepted call must do (a dict), or every reason why the
        spec refuses it on ``process`` (a list)."""
        if values is None or values is False:
            values = {}
        if not isinstance(values, dict):
            return ["values not a dict"]
        if code not in VALUE_KEYS:
            return ["unknown code"]
        spec = VALUE_KEYS[code]
        reasons = ["unknown key"] if set(values) - set(spec) else []
        clean, emptied = {}, set()
        for key, value in values.items():
            if key not in spec:
                continue
            status, normalized = self._clean(key, value)
            if status == "ok":
                clean[key] = normalized
            elif status == "empty":
                emptied.add(key)
            else:
                reasons.append(status)
        state = self.model[process.id]
        if state["step"] not in FROM_STEPS[code]:
            reasons.append("not from this step")
        if any(
            needed and key not in clean and key not in DEFAULTED and key not in emptied for key, needed in spec.items()
        ):
            reasons.append("required value missing")
        if any(needed and key in emptied for key, needed in spec.items()):
            reasons.append("required value given empty")
        record = self.env["crm.lead"].browse(state["current"])
        expected = {"clean": clean, "record": record, "emptied": emptied}
        if code == "qualify" and state["step"] == "new_lead":
            reasons += self._expect_qualify(record, clean, set(values) & set(spec), expected)
        elif code == "develop":
            partner = clean.get("partner_id")
            contact = clean.get("contact_id")
            if partner and contact and contact.commercial_partner_id != partner.commercial_partner_id:
                reasons.append("contact of another customer")
        return reasons or expected

    def _expect_qualify(self, record, clean, given, expected):
        """Why the customer rules refuse a qualify (a list); what it must do
        goes into ``expected``."""
        company = self._company_for(record, clean, given)
        contact = record.partner_id
        expected.update(
            company=company,
            name=clean.get("opportunity_name") or record.name,
            contact=contact,
            contact_name=record.contact_name,
        )
        if "partner_id" in clean and not clean["partner_id"].is_company:
            return ["customer not a company"]
        if company is None:
            return ["no customer to qualify with"]
        if (
            contact
            and (contact.is_company or contact.parent_id)
            and (isinstance(company, str) or contact.commercial_partner_id != company)
        ):
            return ["lead's contact of another company"]
        return []

    # -- state of the world --------------------------------------------

    def _rows(self, table, ids):
        """{id: the row as stored}: every column, straight from the database."""
        self.env.flush_all()
        self.env.cr.execute(f"SELECT id, to_jsonb(t) FROM {table} t WHERE id IN %s", [tuple(ids) or (0,)])
        return dict(self.env.cr.fetchall())

    def _world(self):
        """Everything a refused call must leave as it was: the rows of the
        processes and of all their records, and how many leads, partners, log
        lines and messages exist."""
        self.env.cr.flush()  # pending tracking of earlier calls: their messages now
        self.env.cr.execute(
            "SELECT (SELECT count(*) FROM crm_lead), (SELECT count(*) FROM res_partner), "
            "(SELECT count(*) FROM crm_sales_process_log), (SELECT count(*) FROM mail_message)"
        )
        counts = self.env.cr.fetchone()
        records = set().union(*(state["records"] for state in self.model.values()))
        return (
            counts,
            self._rows("crm_sales_process", self.model),
            self._rows("crm_lead", records),
        )

    def _read_closed(self, ids):
        return {
            lead_id: {key: value for key, value in row.items() if key not in RESCORED}
            for lead_id, row in self._rows("crm_lead", ids).items()
        }

    def _check_closed_unchanged(self):
        if not self.closed:
            return
        self.case.assertFalse(_changes(self.closed, self._read_closed(self.closed)), "a closed record changed")

    def _check_model(self):
        """The processes and their records are where the model says, in the
        database itself."""
        self.env.flush_all()
        ids = tuple(self.model)
        cr = self.env.cr
        cr.execute("SELECT id, step_code, current_lead_id FROM crm_sales_process WHERE id IN %s", [ids])
        steps = {pid: (step, current) for pid, step, current in cr.fetchall()}
        cr.execute(
            "SELECT sales_process_id, array_agg(id) FROM crm_lead "
            "WHERE sales_process_id IN %s GROUP BY sales_process_id",
            [ids],
        )
        records = {pid: set(lead_ids) for pid, lead_ids in cr.fetchall()}
        self.case.assertEqual(steps, {pid: (state["step"], state["current"]) for pid, state in self.model.items()})
        self.case.assertEqual(records, {pid: state["records"] for pid, state in self.model.items()})

    # -- the rule ------------------------------------------------------

    @rule(data=st.data())
    def run_transition(self, data):
        """One call: mostly a process, then a transition its step allows (on
        it and, for a batch, on another process in the same step); else a
        transition code of the workflow or an unknown one, then processes,
        mostly ones in a step it leaves from."""
        batch = data.draw(st.sampled_from([False, False, True, False, False]), label="batch")
        size = 2 if batch else 1
        steps = [self.model[process.id]["step"] for process in self.processes]
        if data.draw(st.sampled_from([True, True, False, True, True]), label="step first"):
            first = data.draw(st.integers(0, len(steps) - 1), label="process")
            allowed = [code for code in CODES if steps[first] in FROM_STEPS[code]]
            code = data.draw(st.sampled_from(allowed), label="code")
            fitting = lambda i: steps[i] == steps[first]
            indexes = [first]
        else:
            code = data.draw(_mix((5, st.sampled_from(CODES)), (1, st.sampled_from(UNKNOWN_CODES))), label="code")
            fitting = lambda i: steps[i] in FROM_STEPS.get(code, ())
            indexes = []
        while len(indexes) < size:
            others = [i for i in range(len(steps)) if i not in indexes]
            fit = [i for i in others if fitting(i)] or others
            indexes.append(data.draw(_mix((3, st.sampled_from(fit)), (1, st.sampled_from(others))), label="process"))
        processes = [self.processes[i] for i in indexes]
        values = data.draw(self._values_strategy(code), label="values")
        self._call(processes, code, values, batch)

    def _call(self, processes, code, values, batch):
        case = self.case
        expectations = {p: self._expect(p, code, values) for p in processes}
        reasons = {reason for expected in expectations.values() if isinstance(expected, list) for reason in expected}
        valid = not reasons
        before = self._world()
        self.env.cr.execute(
            "SELECT process_id, count(*) FROM crm_sales_process_log WHERE process_id IN %s GROUP BY process_id",
            [tuple(p.id for p in processes)],
        )
        log_counts = dict(self.env.cr.fetchall())
        logs_before = {p: log_counts.get(p.id, 0) for p in processes}
        last_partner = self.env["res.partner"].with_context(active_test=False).search([], order="id desc", limit=1)
        submitted = copy.deepcopy(values)
        recordset = processes[0].browse([p.id for p in processes])
        error = None
        try:
            result = recordset.run_transition(code, submitted)
        except UserError as caught:
            error = caught
        what = f"{code!r} with {values!r} on steps {[self.model[p.id]['step'] for p in processes]}"
        if error is not None:
            self.stats["refused", code] += 1
            if len({REASONS[reason] for reason in reasons}) == 1:  # for that reason alone
                self.stats["reason", REASONS[reasons.pop()]] += 1
            self.stats["refused", "batch" if batch else "single"] += 1
            case.assertFalse(valid, f"{what} was refused, the spec accepts it: {error}")
            after = self._world()
            case.assertEqual(after[0], before[0], f"{what} was refused but created records")
            case.assertFalse(_changes(before[1], after[1]), f"{what} was refused but changed a process")
            case.assertFalse(_changes(before[2], after[2]), f"{what} was refused but changed a record")
        else:
            self.stats["accepted", code] += 1
            self.stats["accepted", "batch" if batch else "single"] += 1
            case.assertTrue(valid, f"{what} was accepted, the spec refuses it")
            self.env.cr.flush()
            if not batch and code in NEW_RECORD:
                case.assertIsInstance(result, dict, what)
                case.assertEqual(result.get("res_model"), "crm.lead", what)
                case.assertEqual(result.get("res_id"), processes[0].current_lead_id.id, what)
            else:
                case.assertIs(result, True, what)
            for process in processes:
                self._check_accepted(process, code, expectations[process], logs_before[process], last_partner, what)
        self._check_model()
        self._check_closed_unchanged()

    # -- what an accepted call did -------------------------------------

    def _check_accepted(self, process, code, expected, logs_before, last_partner, what):
        case = self.case
        state = self.model[process.id]
        old = expected["record"]
        clean = expected["clean"]
        from_step = state["step"]
        process.invalidate_recordset()
        old.invalidate_recordset()
        record = process.current_lead_id
        case.assertEqual(process.step_code, TO_STEP[code], what)
        case.assertConsistent(process)
        # the log: one line describing the call
        case.assertEqual(len(process.log_ids), logs_before + 1, what)
        log = process.log_ids.sorted("id")[-1]
        case.assertEqual(log.transition_id.code, code)
        case.assertEqual(log.from_step_id.code, from_step)
        case.assertEqual(log.to_step_id.code, TO_STEP[code])
        case.assertEqual(log.lead_id, old)
        case.assertEqual(log.user_id, case.salesman)
        if code in NEW_RECORD:
            case.assertNotEqual(record, old, f"{what}: a NEW record")
            case.assertNotIn(record.id, state["records"])
            case.assertEqual(record.sales_process_origin_id, old)
            case.assertEqual(log.new_lead_id, record)
            case.assertTrue(record.active)
            case.assertEqual(record.won_status, "pending")
            case.assertFalse(record.lost_reason_id)
        else:
            case.assertEqual(record, old, f"{what}: the same record")
            case.assertFalse(log.new_lead_id)
        getattr(self, f"_check_{code}")(process, record, old, clean, expected, last_partner, what)
        # the model moves on
        state["step"] = TO_STEP[code]
        state["current"] = record.id
        state["records"].add(record.id)
        # the process and all its records agree
        case.assertEqual(set(process.lead_ids.ids), state["records"], what)
        for lead in process.lead_ids:
            case.assertEqual(lead.sales_process_id, process)
            if lead != record:
                case.assertIn(lead.sales_process_step_id.code, CLOSED_STEPS, f"{what}: a record left behind is closed")
        if code in CLOSING:
            self.closed.update(self._read_closed([record.id]))

    def _assertClosedOn(self, record, clean, what):
        day = clean.get("close_date")
        self.case.assertTrue(record.date_closed, what)
        if day:
            self.case.assertEqual(record.date_closed.date(), day, what)
        else:  # default: today
            delta = abs(record.date_closed - fields.Datetime.now())
            self.case.assertLess(delta, datetime.timedelta(days=1), what)

    def _assertInChatter(self, record, text, what):
        word = text.split()[0]
        bodies = [html2plaintext(message.body or "") for message in record.message_ids]
        self.case.assertTrue(any(word in body for body in bodies), f"{what}: {word!r} in the chatter")

    def _check_qualify(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.type, "opportunity")
        case.assertEqual(process.lead_id, record)
        case.assertEqual(process.opportunity_id, record)
        case.assertEqual(record.name, expected["name"], what)
        customer = record.partner_id
        company = customer.commercial_partner_id
        case.assertTrue(company.is_company, what)
        if isinstance(expected["company"], str):
            # no company of that name: a new one
            case.assertGreater(company.id, last_partner.id, f"{what}: a new company")
            case.assertEqual(company.name.lower(), expected["company"].lower(), what)
        else:
            case.assertEqual(company, expected["company"], what)
        if expected["contact"]:
            case.assertEqual(customer, expected["contact"], what)
        elif expected["contact_name"]:
            case.assertFalse(customer.is_company, what)
            case.assertEqual(customer.name, expected["contact_name"], what)
        if clean.get("notes"):
            case.assertIn("Big one", html2plaintext(record.description or ""), what)

    def _check_disqualify(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.type, "lead")
        case.assertFalse(record.active)
        case.assertEqual(record.won_status, "lost")
        case.assertEqual(record.lost_reason_id, case.disqualified)
        if clean.get("reason"):
            self._assertInChatter(record, clean["reason"], what)

    def _check_follow_up(self, process, record, old, clean, expected, last_partner, what):
        self.case.assertEqual(record.sales_process_step_id.code, "disqualified_lead")
        self._assertInChatter(record, clean["note"], what)

    def _check_reactivate(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.type, "lead")
        case.assertEqual(record.name, old.name)
        case.assertEqual(process.lead_id, record)
        case.assertEqual(old.sales_process_step_id.code, "disqualified_lead")
        case.assertFalse(old.active)

    def _check_develop(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        partner = clean["partner_id"]
        case.assertEqual(record.partner_id.commercial_partner_id, partner.commercial_partner_id, what)
        if clean.get("contact_id"):
            case.assertEqual(record.partner_id, clean["contact_id"], what)
        for key in ("budget_amount", "probability"):
            if key in clean:
                case.assertAlmostEqual(record[key], clean[key], places=2, msg=f"{what}: {key}")
        for key in ("customer_need", "proposed_solution"):
            if key in clean:
                case.assertEqual(record[key], clean[key], f"{what}: {key}")
        for key in expected["emptied"] - {"contact_id"}:  # given empty: written empty
            case.assertFalse(record[key], f"{what}: {key} given empty")

    def _check_close_as_won(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.won_status, "won")
        case.assertTrue(record.stage_id.is_won)
        case.assertEqual(record.probability, 100)
        case.assertAlmostEqual(record.expected_revenue, clean["close_revenue"], places=2, msg=what)
        self._assertClosedOn(record, clean, what)

    def _check_close_as_lost(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.won_status, "lost")
        case.assertFalse(record.active)
        case.assertEqual(record.lost_reason_id, clean["lost_reason_id"], what)
        case.assertEqual(record.probability, 0)
        case.assertEqual(record.expected_revenue, 0)
        self._assertClosedOn(record, clean, what)

    def _check_reopen(self, process, record, old, clean, expected, last_partner, what):
        case = self.case
        case.assertEqual(record.type, "opportunity")
        case.assertEqual(process.opportunity_id, record)
        case.assertEqual(record.partner_id, old.partner_id)
        # development and closing data cleared
        case.assertFalse(record.budget_amount, what)
        case.assertFalse(record.customer_need, what)
        case.assertFalse(record.proposed_solution, what)
        case.assertFalse(record.expected_revenue, what)
        case.assertFalse(record.date_closed, what)
        case.assertEqual(record.probability, record.automated_probability, what)
        case.assertIn(old.sales_process_step_id.code, ("won_opportunity", "lost_opportunity"))


@tagged("post_install", "-at_install")
class TestProperties(SalesProcessCase):
    """Random sequences of transitions with random values: the engine agrees
    with the spec, refusals change nothing, closed records never change."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.initrode = Partner.create({"name": "Initrode SP", "is_company": True})
        cls.initrode_contact = Partner.create({"name": "Bill Lumbergh", "parent_id": cls.initrode.id})
        cls.lonely = Partner.create({"name": "Milton Waddams"})  # a person of no company
        cls.archived_company = Partner.create({"name": "Archived Co SP", "is_company": True, "active": False})
        cls.archived_person = Partner.create({"name": "Gone Person SP", "active": False})
        cls.archived_reason = cls.env["crm.lost.reason"].create({"name": "Gone SP", "active": False})

    def test_random_transition_sequences(self):
        pools = _pools(self)
        stats = Counter()
        run_state_machine_as_test(lambda: _TransitionMachine(self, pools, stats), settings=SETTINGS)
        # the sequences did reach every transition, accepted and refused,
        # alone and in batches: the properties above were not checked in vain
        for code in CODES + ["single", "batch"]:
            with self.subTest(code=code):
                self.assertGreater(stats["accepted", code], 0, f"{code} never accepted")
                self.assertGreater(stats["refused", code], 0, f"{code} never refused")
        self.assertGreater(sum(stats["refused", code] for code in UNKNOWN_CODES), 0, "no unknown code tried")
        # and every kind of refusal of the spec, alone
        for reason in sorted(set(REASONS.values())):
            with self.subTest(reason=reason):
                self.assertGreater(stats["reason", reason], 0, f"never refused for: {reason}")
