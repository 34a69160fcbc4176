# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The security matrix of issue 5: each role against each operation on each
model of the addon.

Roles (ROLES): a portal user; the salesman of channel A and a salesman of
another B2B channel (B), both "User: Own Documents Only"; the sales manager of
the company; a sales manager of another company.

Most cells act on one record of each owner (TARGETS): the salesman's, the
channel-B salesman's, an unassigned one (channel A), the other company's. The
expected outcomes follow Odoo CRM's own rules on crm.lead, which the addon
mirrors on its processes and their log: "Own Documents Only" reaches its own
and the unassigned records whatever their channel (Odoo has no channel rule),
"All Documents" (the manager) every record of its companies, nobody a record of
a company they are not in; the portal user nothing. The workflow configuration
is read by every internal sales user and written by managers only; log lines
are written by the engine only (sudo), never by a user.

Every cell runs in a savepoint rolled back afterwards, so that all start from
the same records, built once for the class. An allowed cell asserts its
effect; a refused one the exact exception (AccessError, or UserError from the
addon's guard) and that nothing changed: neither the rows of the records it
acted on nor the number of processes, log lines, configuration records, leads,
partners and messages. Only a refused ORM create is first rolled back, as its
RPC request would be: Odoo checks the record rules of a create on the rows it
has just inserted.
"""

from contextlib import closing

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import SalesProcessCase

# Outcomes of a cell.
Y = "allowed"
A = AccessError
U = UserError
KEPT = "left alone"  # Move Processes: allowed, but does not move this target

# Tables whose row count a refused operation must leave unchanged.
STATE_MODELS = (
    "crm.sales.process",
    "crm.sales.process.log",
    "crm.sales.process.workflow",
    "crm.sales.process.step",
    "crm.sales.process.transition",
    "crm.lead",
    "res.partner",
    "mail.message",
)

ROLES = ("portal", "salesman", "salesman_b", "manager", "other_company")

# Owners of the records a cell acts on, in the column order of the tables.
TARGETS = ("salesman", "salesman_b", "unassigned", "other_company")

# crm.sales.process. "run transition" is every transition of the default
# workflow, run from one of its From Steps (TRANSITIONS); start_from_* act on a
# lead / opportunity of that owner that is in no process yet; only managers
# delete a process (the salesmen have no unlink right on it).
PROCESS_MATRIX = {
    #                              salesman's  ch. B's  unassigned  other co.'s
    "portal": {
        "read": (A, A, A, A),
        "write name": (A, A, A, A),
        "unlink": (A, A, A, A),
        "start_from_lead": (A, A, A, A),
        "start_from_opportunity": (A, A, A, A),
        "run transition": (A, A, A, A),
    },
    "salesman": {
        "read": (Y, A, Y, A),
        "write name": (Y, A, Y, A),
        "unlink": (A, A, A, A),
        "start_from_lead": (Y, A, Y, A),
        "start_from_opportunity": (Y, A, Y, A),
        "run transition": (Y, A, Y, A),
    },
    "salesman_b": {
        "read": (A, Y, Y, A),
        "write name": (A, Y, Y, A),
        "unlink": (A, A, A, A),
        "start_from_lead": (A, Y, Y, A),
        "start_from_opportunity": (A, Y, Y, A),
        "run transition": (A, Y, Y, A),
    },
    "manager": {
        "read": (Y, Y, Y, A),
        "write name": (Y, Y, Y, A),
        "unlink": (Y, Y, Y, A),
        "start_from_lead": (Y, Y, Y, A),
        "start_from_opportunity": (Y, Y, Y, A),
        "run transition": (Y, Y, Y, A),
    },
    "other_company": {
        "read": (A, A, A, Y),
        "write name": (A, A, A, Y),
        "unlink": (A, A, A, Y),
        "start_from_lead": (A, A, A, Y),
        "start_from_opportunity": (A, A, A, Y),
        "run transition": (A, A, A, Y),
    },
}

# (code, from step, values, step reached) of every transition of the default
# workflow; between them they leave from every step that has a way out.
TRANSITIONS = [
    ("qualify", "new_lead", {"company_name": "Initech SP"}, "new_opportunity"),
    ("disqualify", "new_lead", {"reason": "no budget"}, "disqualified_lead"),
    ("follow_up", "disqualified_lead", {"note": "call again in May"}, "disqualified_lead"),
    ("reactivate", "disqualified_lead", {}, "new_lead"),
    ("develop", "new_opportunity", {"partner_id": "customer"}, "developed_opportunity"),
    ("close_as_won", "developed_opportunity", {"close_revenue": 7000}, "won_opportunity"),
    ("close_as_lost", "new_opportunity", {"lost_reason_id": "outsold"}, "lost_opportunity"),
    ("reopen", "won_opportunity", {}, "new_opportunity"),
]

# How the processes of each step are built (as superuser, in batches): the
# transitions that lead there from a new lead.
PATHS = {
    "new_lead": [],
    "disqualified_lead": ["disqualify"],
    "new_opportunity": ["qualify"],
    "developed_opportunity": ["qualify", "develop"],
    "won_opportunity": ["qualify", "develop", "close_as_won"],
}
PATH_VALUES = {
    "disqualify": {},
    "qualify": {"company_name": "Initech SP"},
    "develop": {"partner_id": "customer"},
    "close_as_won": {"close_revenue": 7000},
}

# crm.sales.process.log: the log lines of the target's process. No user writes,
# creates or deletes a line, the manager included: the engine writes them as
# sudo.
LOG_MATRIX = {
    #                  salesman's  ch. B's  unassigned  other co.'s
    "portal": {
        "read": (A, A, A, A),
        "write": (A, A, A, A),
        "create": (A, A, A, A),
        "unlink": (A, A, A, A),
    },
    "salesman": {
        "read": (Y, A, Y, A),
        "write": (A, A, A, A),
        "create": (A, A, A, A),
        "unlink": (A, A, A, A),
    },
    "salesman_b": {
        "read": (A, Y, Y, A),
        "write": (A, A, A, A),
        "create": (A, A, A, A),
        "unlink": (A, A, A, A),
    },
    "manager": {
        "read": (Y, Y, Y, A),
        "write": (A, A, A, A),
        "create": (A, A, A, A),
        "unlink": (A, A, A, A),
    },
    "other_company": {
        "read": (A, A, A, Y),
        "write": (A, A, A, A),
        "create": (A, A, A, A),
        "unlink": (A, A, A, A),
    },
}

# crm.lead of a process (its current record). "write closed" (a won
# opportunity) is refused by the addon's guard (UserError) to those who reach
# the record, whatever their rights on crm.lead; "unlink" by the guard too
# (an ondelete check) to those Odoo lets delete leads, while a salesman, who
# has no unlink right on crm.lead at all, gets Odoo's AccessError first; the
# others get the AccessError of Odoo's rules.
LEAD_MATRIX = {
    #                      salesman's  ch. B's  unassigned  other co.'s
    "portal": {
        "read": (A, A, A, A),
        "write": (A, A, A, A),
        "unlink": (A, A, A, A),
        "write closed": (A, A, A, A),
    },
    "salesman": {
        "read": (Y, A, Y, A),
        "write": (Y, A, Y, A),
        "unlink": (A, A, A, A),
        "write closed": (U, A, U, A),
    },
    "salesman_b": {
        "read": (A, Y, Y, A),
        "write": (A, Y, Y, A),
        "unlink": (A, A, A, A),
        "write closed": (A, U, U, A),
    },
    "manager": {
        "read": (Y, Y, Y, A),
        "write": (Y, Y, Y, A),
        "unlink": (U, U, U, A),
        "write closed": (U, U, U, A),
    },
    "other_company": {
        "read": (A, A, A, Y),
        "write": (A, A, A, Y),
        "unlink": (A, A, A, U),
        "write closed": (A, A, A, U),
    },
}

# The transition form (create it on the target's process, then confirm) and
# Move Processes (from the default workflow to another one: which targets it
# moves; it is for managers, each within their companies).
WIZARD_MATRIX = {
    #                          salesman's  ch. B's  unassigned  other co.'s
    "portal": {
        "transition wizard": (A, A, A, A),
        "move processes": (A, A, A, A),
    },
    "salesman": {
        "transition wizard": (Y, A, Y, A),
        "move processes": (A, A, A, A),
    },
    "salesman_b": {
        "transition wizard": (A, Y, Y, A),
        "move processes": (A, A, A, A),
    },
    "manager": {
        "transition wizard": (Y, Y, Y, A),
        "move processes": (Y, Y, Y, KEPT),
    },
    "other_company": {
        "transition wizard": (A, A, A, Y),
        "move processes": (KEPT, KEPT, KEPT, Y),
    },
}

# Configuration: crm.sales.process.workflow, .step and .transition alike. The
# targets are a workflow shared by the companies (no company), one of this
# company and one of the other company (for a step or a transition: one of
# that workflow; to create: one in that workflow / of that company).
CONFIG_TARGETS = ("shared", "this_company", "other_company")
CONFIG_MODELS = (
    "crm.sales.process.workflow",
    "crm.sales.process.step",
    "crm.sales.process.transition",
)
CONFIG_MATRIX = {
    #                  shared  this co.'s  other co.'s
    "portal": {
        "read": (A, A, A),
        "write": (A, A, A),
        "create": (A, A, A),
        "unlink": (A, A, A),
    },
    "salesman": {
        "read": (Y, Y, A),
        "write": (A, A, A),
        "create": (A, A, A),
        "unlink": (A, A, A),
    },
    "salesman_b": {
        "read": (Y, Y, A),
        "write": (A, A, A),
        "create": (A, A, A),
        "unlink": (A, A, A),
    },
    "manager": {
        "read": (Y, Y, A),
        "write": (Y, Y, A),
        "create": (Y, Y, A),
        "unlink": (Y, Y, A),
    },
    "other_company": {
        "read": (Y, A, Y),
        "write": (Y, A, Y),
        "create": (Y, A, Y),
        "unlink": (Y, A, Y),
    },
}


@tagged("post_install", "-at_install")
class TestSecurityMatrix(SalesProcessCase):
    """Roles x models x operations; see the module docstring and the tables."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = cls._new_user("spm_portal", "Pat Portal", "base.group_portal")
        cls.salesman_b = cls._new_user("spm_salesman_b", "Bob Channel-B", "sales_team.group_sale_salesman")
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "SP B2B Channel B",
                "channel_type": "b2b",
                "company_id": cls.company.id,
                "member_ids": [Command.set(cls.salesman_b.ids)],
            }
        )
        cls.team_x = cls.env["crm.team"].create(
            {
                "name": "SP B2B Other Company",
                "channel_type": "b2b",
                "company_id": cls.other_company.id,
            }
        )
        cls.users = {
            "portal": cls.portal,
            "salesman": cls.salesman,
            "salesman_b": cls.salesman_b,
            "manager": cls.manager,
            "other_company": cls.other_user,
        }
        # (owner, channel) of the records of each target
        cls.owners = {
            "salesman": (cls.salesman, cls.team),
            "salesman_b": (cls.salesman_b, cls.team_b),
            "unassigned": (cls.env["res.users"], cls.team),
            "other_company": (cls.other_user, cls.team_x),
        }
        cls.processes = cls._build_processes()
        # a lead and an opportunity of each owner in no process yet
        keys = [(target, kind) for target in TARGETS for kind in ("lead", "opportunity")]
        fresh = cls._new_leads([(target, f"Fresh {kind} of {target}", kind) for target, kind in keys])
        cls.fresh = dict(zip(keys, fresh, strict=True))
        # configuration records: deep copies of the default workflow (not in
        # use, so that they can be changed and deleted freely), each with an
        # extra step nothing refers to
        companies = {
            "shared": cls.env["res.company"],
            "this_company": cls.company,
            "other_company": cls.other_company,
        }
        cls.config_workflows = {}
        for target, company in companies.items():
            workflow = cls.workflow.copy({"name": f"SPM {target}", "company_id": company.id})
            cls.env["crm.sales.process.step"].create(
                {
                    "workflow_id": workflow.id,
                    "code": "spm_extra",
                    "name": "Extra",
                    "sequence": 99,
                    "record_type": "lead",
                }
            )
            cls.config_workflows[target] = workflow
        cls.move_target = cls.workflow.copy({"name": "SPM move target"})

    # -- building the records ----------------------------------------------

    @classmethod
    def _new_leads(cls, specs):
        """Leads of [(target, name, type)], owned as the target says."""
        vals_list = []
        for target, name, kind in specs:
            user, team = cls.owners[target]
            vals_list.append(
                {
                    "name": name,
                    "type": kind,
                    "team_id": team.id,
                    "company_id": team.company_id.id,
                    "user_id": user.id,
                    "partner_name": "Initech SP",
                    "contact_name": "Peter Gibbons",
                    "email_from": "peter@initech.example.com",
                    "expected_revenue": 5000,
                }
            )
        return cls.env["crm.lead"].create(vals_list)

    @classmethod
    def _values(cls, values):
        """Transition values with the fixture's records by name."""
        refs = {"customer": cls.customer.id, "outsold": cls.outsold.id}
        return {key: refs.get(value, value) if isinstance(value, str) else value for key, value in values.items()}

    @classmethod
    def _build_processes(cls):
        """{target: {step: process}}: a process of each owner in each step of
        PATHS, started and moved on in batches."""
        specs = [(target, step) for target in TARGETS for step in PATHS]
        leads = cls._new_leads([(target, f"{target} at {step}", "lead") for target, step in specs])
        processes = cls.Process.browse(cls.Process.start_from_lead(leads.ids))
        for target in TARGETS:
            user = cls.owners[target][0]
            # the start makes the starter (here the superuser) the owner
            leads.filtered(lambda lead, t=target: lead.name.startswith(f"{t} at ")).user_id = user
        by_spec = dict(zip(specs, processes, strict=False))
        for code in ("qualify", "disqualify", "develop", "close_as_won"):
            batch = cls.Process.union(*(process for (__, step), process in by_spec.items() if code in PATHS[step]))
            batch.run_transition(code, cls._values(PATH_VALUES[code]))
        result = {}
        for (target, step), process in by_spec.items():
            assert process.step_code == step, (target, step, process.step_code)
            assert process.user_id == cls.owners[target][0], (target, step)
            result.setdefault(target, {})[step] = process
        return result

    # -- running a cell -------------------------------------------------------

    def _state(self, records):
        """What a refused operation must leave as it was: the rows of
        ``records`` as stored, and the number of rows of the tables the
        addon's operations write to; {name: value}."""
        self.env.cr.flush()
        cr = self.env.cr
        tables = [self.env[model]._table for model in STATE_MODELS]
        cr.execute(
            SQL(
                "SELECT %s",
                SQL(", ").join(SQL("(SELECT count(*) FROM %s)", SQL.identifier(t)) for t in tables),
            )
        )
        state = {f"rows of {table}": count for table, count in zip(tables, cr.fetchone(), strict=False)}
        for record in records:
            cr.execute(
                SQL(
                    "SELECT * FROM %s WHERE id IN %s",
                    SQL.identifier(record._table),
                    tuple(record.ids) or (0,),
                )
            )
            for row in cr.dictfetchall():
                for column, value in row.items():
                    state[f"{record._table}({row['id']}).{column}"] = value
        return state

    def assertStateUnchanged(self, before, after, msg):
        changes = [
            f"{key}: {before.get(key)!r} -> {after.get(key)!r}"
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        ]
        if changes:
            self.fail(f"{msg}: refused, but changed " + "; ".join(changes))

    def _cell(self, role, model, op, target, expected, action, effect=None, watch=()):
        """Run ``action`` as the cell (role, model, op, target) expects it:
        ``effect(result)`` when allowed, else the exact exception ``expected``
        and nothing changed. Rolled back afterwards."""
        with self.subTest(role=role, model=model, op=op, target=target), closing(self.env.cr.savepoint()):
            before = self._state(watch) if expected is not Y else None
            self.env.invalidate_all()
            if expected is Y:
                result = action()
                self.env.invalidate_all()
                if effect:
                    effect(result)
                return
            try:
                if op == "unlink" and "message_ids" in self.env[model]._fields:
                    # Odoo's mail.thread deletes a record's messages before the
                    # access and ondelete checks refuse the unlink, relying on
                    # the rollback that ends every refused RPC call: modelled
                    with self.env.cr.savepoint():
                        action()
                else:
                    action()
            except Exception as error:  # noqa: BLE001 -- its exact type is the assertion
                self.assertIs(
                    type(error),
                    expected,
                    f"{role} / {model} / {op} / {target}: expected {expected.__name__}, "
                    f"got {type(error).__name__}: {error}",
                )
            else:
                self.fail(f"{role} / {model} / {op} / {target}: allowed, expected {expected.__name__}")
            self.assertStateUnchanged(before, self._state(watch), f"{role} / {model} / {op} / {target}")

    def _matrix(self, table, targets=TARGETS):
        """(role, user, op, target, expected) of every cell of ``table``."""
        self.assertEqual(set(table), set(ROLES))
        for role in ROLES:
            for op, outcomes in table[role].items():
                self.assertEqual(len(outcomes), len(targets), (role, op))
                for target, expected in zip(targets, outcomes, strict=False):
                    yield role, self.users[role], op, target, expected

    def _read_cell(self, role, model, target, expected, record):
        """read: the record is found by search and read when allowed, else
        hidden from search and refused by read."""
        as_user = record.with_user(self.users[role])
        fname = "name" if "name" in record._fields else "date"

        def action():
            found = as_user.search([("id", "=", record.id)]) if as_user.browse().has_access("read") else None
            if expected is Y:
                self.assertEqual(found, as_user, "an allowed record is found by search")
            elif found is not None:
                self.assertFalse(found, "a refused record is hidden from search")
            return as_user.read([fname])

        self._cell(
            role,
            model,
            "read",
            target,
            expected,
            action,
            effect=lambda result: self.assertEqual(result[0][fname], record[fname]),
            watch=(record,),
        )

    # Each test below maps the operations of its table to (action, effect,
    # watch) for one user and one target: what the cell runs, what it asserts
    # when allowed, the records a refusal must leave unchanged.

    def _run_table(self, model, table, operations, targets=TARGETS):
        for role, user, op, target, expected in self._matrix(table, targets):
            if op == "read":
                self._read_cell(role, model, target, expected, operations["read"](target))
                continue
            action, effect, watch = operations[op](user, target)
            label = getattr(operations[op], "label", op)
            self._cell(role, model, label, target, expected, action, effect, watch)

    # -- crm.sales.process ----------------------------------------------------------

    def test_process(self):
        def target_process(target):
            return self.processes[target]["new_lead"]

        def write_name(user, target):
            process = target_process(target)

            def effect(__):
                self.assertEqual(process.name, "Renamed SPM")

            return (
                lambda: process.with_user(user).write({"name": "Renamed SPM"}),
                effect,
                (process, process.current_lead_id),
            )

        def unlink(user, target):
            process = target_process(target)
            lead = process.current_lead_id

            def effect(__):
                self.assertFalse(process.exists())
                self.assertFalse(lead.sales_process_id, "the lead is released")
                self.assertFalse(lead.sales_process_step_id)

            return lambda: process.with_user(user).unlink(), effect, (process, lead)

        def start(method):
            kind = method.rsplit("_", 1)[1]

            def operation(user, target):
                lead = self.fresh[target, kind]
                salesperson = lead.user_id

                def effect(process_id):
                    process = self.Process.browse(process_id)
                    self.assertEqual(process.step_code, f"new_{kind}")
                    self.assertEqual(lead.sales_process_id, process)
                    # the record's salesperson owns it, kept; the starter when it has none
                    self.assertEqual(lead.user_id, salesperson or user)
                    self.assertEqual(process.user_id, salesperson or user)
                    self.assertEqual(process.log_ids.user_id, user)
                    self.assertConsistent(process)

                return (
                    lambda: getattr(self.Process.with_user(user), method)(lead.id),
                    effect,
                    (lead,),
                )

            return operation

        operations = {
            "read": target_process,
            "write name": write_name,
            "unlink": unlink,
            "start_from_lead": start("start_from_lead"),
            "start_from_opportunity": start("start_from_opportunity"),
        }
        transitions_table = {role: {"run transition": row["run transition"]} for role, row in PROCESS_MATRIX.items()}
        other_table = {
            role: {op: outcomes for op, outcomes in row.items() if op != "run transition"}
            for role, row in PROCESS_MATRIX.items()
        }
        self._run_table("crm.sales.process", other_table, operations)
        for code, step, values, to_step in TRANSITIONS:
            self._run_table(
                "crm.sales.process",
                transitions_table,
                {"run transition": self._transition_operation(code, step, values, to_step)},
            )

    def _transition_operation(self, code, step, values, to_step):
        """The operation "run ``code`` on the target's process in ``step``"."""

        def operation(user, target):
            process = self.processes[target][step]
            record = process.current_lead_id

            def effect(result):
                self.assertTrue(result, "True or an action, never None")
                self.assertEqual(process.step_code, to_step)
                log = process.log_ids[:1]
                self.assertEqual(log.transition_id.code, code)
                self.assertEqual(log.user_id, user)
                self.assertConsistent(process)
                if code in ("reactivate", "reopen"):
                    self.assertNotEqual(process.current_lead_id, record)
                    self.assertEqual(process.current_lead_id.sales_process_origin_id, record)
                else:
                    self.assertEqual(process.current_lead_id, record)
                if code == "follow_up":
                    self.assertIn(values["note"], record.message_ids[:1].body)

            return (
                lambda: process.with_user(user).run_transition(code, self._values(values)),
                effect,
                (process, record),
            )

        operation.label = f"{code} from {step}"
        return operation

    # -- crm.sales.process.log --------------------------------------------------------

    def test_log(self):
        Log = self.env["crm.sales.process.log"]

        def target_log(target):
            log = self.processes[target]["new_lead"].log_ids
            self.assertEqual(len(log), 1)
            return log

        def write(user, target):
            log = target_log(target)
            return lambda: log.with_user(user).write({"user_id": user.id, "note": "forged"}), None, (log,)

        def create(user, target):
            log = target_log(target)
            vals = {
                "process_id": log.process_id.id,
                "transition_id": log.transition_id.id,
                "to_step_id": log.to_step_id.id,
                "user_id": user.id,
                "date": fields.Datetime.now(),
                "note": "forged",
            }
            return lambda: Log.with_user(user).create(vals), None, (log.process_id,)

        def unlink(user, target):
            log = target_log(target)
            return lambda: log.with_user(user).unlink(), None, (log,)

        self._run_table(
            "crm.sales.process.log",
            LOG_MATRIX,
            {"read": target_log, "write": write, "create": create, "unlink": unlink},
        )

    # -- crm.lead of a process --------------------------------------------------------

    def test_lead_of_process(self):
        def target_lead(target):
            return self.processes[target]["new_lead"].current_lead_id

        def write(user, target):
            lead = target_lead(target)

            def effect(__):
                self.assertEqual(lead.customer_need, "More speed")
                self.assertConsistent(lead.sales_process_id)

            return (
                lambda: lead.with_user(user).write({"customer_need": "More speed"}),
                effect,
                (lead, lead.sales_process_id),
            )

        def unlink(user, target):
            lead = target_lead(target)
            return lambda: lead.with_user(user).unlink(), None, (lead, lead.sales_process_id)

        def write_closed(user, target):
            won = self.processes[target]["won_opportunity"].current_lead_id
            return (
                lambda: won.with_user(user).write({"customer_need": "More speed"}),
                None,
                (won, won.sales_process_id),
            )

        self._run_table(
            "crm.lead",
            LEAD_MATRIX,
            {"read": target_lead, "write": write, "unlink": unlink, "write closed": write_closed},
        )

    # -- wizards ------------------------------------------------------------------------

    def test_transition_wizard(self):
        disqualify = self.workflow.transition_ids.filtered(lambda t: t.code == "disqualify")

        def create_and_confirm(user, target):
            process = self.processes[target]["new_lead"]

            def action():
                wizard = (
                    self.env["crm.sales.process.transition.wizard"]
                    .with_user(user)
                    .create(
                        {
                            "transition_id": disqualify.id,
                            "process_ids": [Command.set(process.ids)],
                            "reason": "no budget",
                        }
                    )
                )
                return wizard.action_confirm()

            def effect(__):
                self.assertEqual(process.step_code, "disqualified_lead")
                log = process.log_ids[:1]
                self.assertEqual(log.user_id, user)
                self.assertEqual(log.values, {"reason": "no budget"})
                self.assertConsistent(process)

            return action, effect, (process, process.current_lead_id)

        table = {role: {"create and confirm": row["transition wizard"]} for role, row in WIZARD_MATRIX.items()}
        self._run_table(
            "crm.sales.process.transition.wizard",
            table,
            {"create and confirm": create_and_confirm},
        )

    def test_move_processes(self):
        def action(user):
            move = (
                self.env["crm.sales.process.move"]
                .with_user(user)
                .create(
                    {
                        "source_workflow_id": self.workflow.id,
                        "target_workflow_id": self.move_target.id,
                    }
                )
            )
            return move.action_move()

        for role, user, __, target, expected in self._matrix(
            {role: {"move": row["move processes"]} for role, row in WIZARD_MATRIX.items()}
        ):
            process = self.processes[target]["new_lead"]

            def moved(__, process=process, user=user):
                self.assertEqual(process.workflow_id, self.move_target)
                self.assertEqual(process.step_id.code, "new_lead")
                self.assertEqual(process.step_id.workflow_id, self.move_target)
                self.assertEqual(process.log_ids[:1].user_id, user)
                self.assertConsistent(process)

            def kept(__, process=process):
                self.assertEqual(process.workflow_id, self.workflow)
                self.assertEqual(process.step_id, self.steps["new_lead"])
                self.assertEqual(len(process.log_ids), 1)

            self._cell(
                role,
                "crm.sales.process.move",
                "create and move",
                target,
                Y if expected is KEPT else expected,
                lambda user=user: action(user),
                kept if expected is KEPT else moved,
                (process, process.current_lead_id),
            )

    # -- configuration -------------------------------------------------------------------

    def test_configuration(self):
        for model in CONFIG_MODELS:
            self._run_table(
                model,
                CONFIG_MATRIX,
                {
                    "read": lambda target, model=model: self._config_record(model, target),
                    "write": lambda user, target, model=model: self._config_write(model, user, target),
                    "create": lambda user, target, model=model: self._config_create(model, user, target),
                    "unlink": lambda user, target, model=model: self._config_unlink(model, user, target),
                },
                CONFIG_TARGETS,
            )

    def _config_record(self, model, target):
        """The record of ``model`` a cell acts on: the target workflow, its
        extra step, its follow-up transition."""
        workflow = self.config_workflows[target]
        if model == "crm.sales.process.workflow":
            record = workflow
        elif model == "crm.sales.process.step":
            record = workflow.step_ids.filtered(lambda s: s.code == "spm_extra")
        else:
            record = workflow.transition_ids.filtered(lambda t: t.code == "follow_up")
        self.assertEqual(len(record), 1)
        return record

    def _config_write(self, model, user, target):
        record = self._config_record(model, target)

        def effect(__):
            self.assertEqual(record.name, "Renamed SPM")

        return (
            lambda: record.with_user(user).write({"name": "Renamed SPM"}),
            effect,
            (record, self.config_workflows[target]),
        )

    def _config_create(self, model, user, target):
        workflow = self.config_workflows[target]
        if model == "crm.sales.process.workflow":
            vals = {"name": "SPM new workflow", "company_id": workflow.company_id.id}
        elif model == "crm.sales.process.step":
            vals = {"workflow_id": workflow.id, "code": "spm_new", "name": "New step", "record_type": "lead"}
        else:
            disqualified = workflow.step_ids.filtered(lambda s: s.code == "disqualified_lead")
            vals = {
                "workflow_id": workflow.id,
                "code": "spm_note",
                "name": "Note again",
                "effect": "follow_up",
                "from_step_ids": [Command.set(disqualified.ids)],
                "to_step_id": disqualified.id,
            }

        def action():
            # Odoo's create checks the record rules on the rows it has just
            # inserted and leaves them to the rollback of its caller (the RPC
            # request): roll back here as the request would
            with self.env.cr.savepoint():
                return self.env[model].with_user(user).create(vals)

        def effect(created):
            self.assertTrue(created.exists())
            self.assertEqual(created.sudo().name, vals["name"])
            if model != "crm.sales.process.workflow":
                self.assertEqual(created.sudo().workflow_id, workflow)

        return action, effect, (workflow,)

    def _config_unlink(self, model, user, target):
        record = self._config_record(model, target)

        def effect(__):
            self.assertFalse(record.exists())

        return (
            lambda: record.with_user(user).unlink(),
            effect,
            (record, self.config_workflows[target]),
        )
