# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import datetime
import math
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import LockError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, is_html_empty

from .crm_sales_process_transition import NEW_RECORD_EFFECTS
from .engine_writes import batched_chatter, engine_writes, in_engine

# Errors of one batch listed in a refusal before "and N more".
MAX_LISTED_ERRORS = 10


def listed(env, lines):
    """The first MAX_LISTED_ERRORS ``lines``, one a line, then how many more."""
    text = "\n".join(lines[:MAX_LISTED_ERRORS])
    if len(lines) > MAX_LISTED_ERRORS:
        text += "\n" + env._("... and %(count)s more.", count=len(lines) - MAX_LISTED_ERRORS)
    return text


class CrmSalesProcess(models.Model):
    _name = "crm.sales.process"
    _description = "Sales Process"
    # The engine (_run: checks, values, new steps, log) is in this file; what
    # it calls or what calls it, in the files of these names:
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "crm.sales.process.start",  # _start: what start_from_lead/_opportunity do
        "crm.sales.process.effects",  # the built-in effects _run applies
        "crm.sales.process.activity.plan",  # the steps' activity plans, launched by _finish
        "crm.sales.process.email",  # the transitions' emails, sent by _run
        "crm.sales.process.ui",  # buttons, drags and step writes that run a transition
        "crm.sales.process.overdue",  # the daily reminder of overdue processes
    ]
    _order = "id desc"

    name = fields.Char(required=True, tracking=True)
    workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    step_id = fields.Many2one(
        "crm.sales.process.step",
        index=True,
        ondelete="restrict",
        group_expand="_read_group_step_ids",
        domain="[('workflow_id', '=', workflow_id)]",
    )
    step_code = fields.Char(related="step_id.code", store=True, string="Step Code")
    is_closed = fields.Boolean(related="step_id.is_final", store=True, string="Closed", index=True)
    date_step = fields.Datetime("In Step Since", readonly=True, default=fields.Datetime.now, copy=False)
    days_in_step = fields.Integer("Days in Step", compute="_compute_days_in_step")
    is_stuck = fields.Boolean(
        "Stuck",
        compute="_compute_is_stuck",
        search="_search_is_stuck",
        help="Open and in its step for longer than 90% of the completed stays in that "
        "step took (CRM > Reporting > Time in Step).",
    )
    stuck_threshold_days = fields.Float(
        "Stuck After (Days)",
        compute="_compute_is_stuck",
        help="The 90th percentile of the completed stays in the current step, "
        "at least one day; none until five stays have ended there.",
    )
    overdue_step_id = fields.Many2one(
        "crm.sales.process.step",
        string="Reminded For",
        readonly=True,
        copy=False,
        help="The step for which the owner was last reminded that the process "
        "stays too long: one reminder per stay in a step.",
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        string="Activity Plan Launched",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The activity plan launched on its record for its stay in the current step: "
        "launching the step's plan on the processes already there leaves it out.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="The lead of the process; after qualification it is the "
        "opportunity itself (Odoo converts the lead in place).",
    )
    opportunity_id = fields.Many2one(
        "crm.lead",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )
    current_lead_id = fields.Many2one(
        "crm.lead",
        string="Current Record",
        compute="_compute_current_lead_id",
        store=True,
        index=True,
        help="The lead or opportunity the process is about in its current step.",
    )
    # related fields inherit the tracking of crm.lead's: the lead's chatter
    # tracks them already, the process's must not repeat it on every transition
    team_id = fields.Many2one(
        related="current_lead_id.team_id",
        store=True,
        readonly=False,
        tracking=False,
        string="Sales Channel",
        index=True,
    )
    user_id = fields.Many2one(
        related="current_lead_id.user_id",
        store=True,
        readonly=False,
        tracking=False,
        string="Owner",
        index=True,
    )
    company_id = fields.Many2one(related="current_lead_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="current_lead_id.partner_id", string="Customer", tracking=False)
    expected_revenue = fields.Monetary(
        related="current_lead_id.expected_revenue", currency_field="company_currency", tracking=False
    )
    company_currency = fields.Many2one(related="current_lead_id.company_currency")
    date_start = fields.Date("Start Date", default=fields.Date.context_today, readonly=True)
    available_transition_ids = fields.Many2many(
        "crm.sales.process.transition",
        string="Available Transitions",
        compute="_compute_available_transition_ids",
    )
    log_ids = fields.One2many("crm.sales.process.log", "process_id", string="Transition Log", readonly=True)
    lead_ids = fields.One2many(
        "crm.lead",
        "sales_process_id",
        string="Records",
        context={"active_test": False},
        help="Every lead and opportunity of the process, the closed ones included.",
    )
    # What the analysis reads of the process's history instead of its whole
    # log (Deal Journeys, the funnel, the current stay of Step Visits): kept
    # by the log as each line is written (crm.sales.process.log._note_facts),
    # flushed with the engine's own update of the process
    date_started = fields.Datetime("Started", readonly=True, copy=False, help="When its first transition ran.")
    first_lead_id = fields.Many2one("crm.lead", string="First Record", readonly=True, copy=False, ondelete="set null")
    first_step_id = fields.Many2one(
        "crm.sales.process.step", string="Started In", readonly=True, copy=False, ondelete="restrict"
    )
    date_opportunity = fields.Datetime(
        "Opportunity Since", readonly=True, copy=False, help="When it first entered an opportunity step."
    )
    date_changed = fields.Datetime(
        "Last Change",
        readonly=True,
        copy=False,
        help="When a transition last changed its step (or a move its workflow).",
    )
    reactivation_count = fields.Integer("Reactivations", readonly=True, copy=False)
    reopen_count = fields.Integer("Reopens", readonly=True, copy=False)
    steps_reached = fields.Json(
        readonly=True, copy=False, help="The ids of the steps it has been in, in the order it first entered them."
    )
    step_transition_id = fields.Many2one(
        "crm.sales.process.transition",
        string="Entered By",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The transition that brought it into its current step (a move to another workflow keeps it).",
    )
    step_reentry = fields.Boolean(
        "Step Re-entered", readonly=True, copy=False, help="It had been in its current step before it entered it."
    )

    _lead_uniq = models.Constraint("UNIQUE(lead_id)", "A lead can start only one Sales Process.")
    _opportunity_uniq = models.Constraint("UNIQUE(opportunity_id)", "An opportunity belongs to only one Sales Process.")

    @api.depends("step_id.record_type", "lead_id", "opportunity_id")
    def _compute_current_lead_id(self):
        for process in self:
            if process.step_id.record_type == "opportunity" or not process.lead_id:
                process.current_lead_id = process.opportunity_id
            else:
                process.current_lead_id = process.lead_id

    @api.depends("date_step")
    def _compute_days_in_step(self):
        now = fields.Datetime.now()
        for process in self:
            start = process.date_step or now
            process.days_in_step = (now - start).days

    @api.depends("date_step", "step_id")
    def _compute_is_stuck(self):
        open_steps = self.step_id.filtered(lambda step: not step.is_final)
        thresholds = self._stuck_thresholds(open_steps.ids)
        now = fields.Datetime.now()
        for process in self:
            days = thresholds.get(process.step_id.id) if process.step_id in open_steps else None
            process.stuck_threshold_days = days or 0.0
            process.is_stuck = bool(
                days is not None and process.date_step and now - process.date_step > timedelta(days=days)
            )

    def _search_is_stuck(self, operator, value):
        """One query for the thresholds of every open step, then a domain on
        the stored step and date_step."""
        if operator not in ("in", "not in"):
            return NotImplemented
        steps = self.env["crm.sales.process.step"].sudo().search([("is_final", "=", False)])
        thresholds = self._stuck_thresholds(steps.ids)
        now = fields.Datetime.now()
        stuck = Domain.OR(
            Domain("step_id", "=", step_id) & Domain("date_step", "<", now - timedelta(days=days))
            for step_id, days in thresholds.items()
        )
        return stuck if (operator == "in") == (True in value) else ~stuck

    @api.model
    def _stuck_thresholds(self, step_ids):
        """{step id: days after which a process is stuck there}: the step's
        90th percentile, but never under a day (90% of the deals leave a
        step they are moved through at once within seconds: waiting an hour
        there is not being stuck, and "90% leave within a day" stays true)."""
        thresholds = self.env["crm.sales.process.step.time.report"]._step_p90(step_ids)
        return {step_id: max(p90, 1.0) for step_id, p90 in thresholds.items()}

    @api.depends("step_id", "workflow_id")
    @api.depends_context("uid")
    def _compute_available_transition_ids(self):
        available = self._available_transitions()
        for process in self:
            process.available_transition_ids = available.get(process, self.env["crm.sales.process.transition"])

    @api.model
    def _read_group_step_ids(self, steps, domain):
        workflows = steps.workflow_id or self.env["crm.sales.process.workflow"]._get_default()
        return steps.search([("workflow_id", "in", workflows.ids)])

    # ------------------------------------------------------------------
    # Public API (DESIGN.md section 2)
    # ------------------------------------------------------------------

    @api.model
    def start_from_lead(self, lead_id, values=None):
        """Start a process on a lead; return the new process id (a list of
        ids when given a list of leads)."""
        return self._start(lead_id, "lead", values)

    @api.model
    def start_from_opportunity(self, opportunity_id, values=None):
        """Start a process on an opportunity, skipping the lead steps."""
        return self._start(opportunity_id, "opportunity", values)

    def run_transition(self, code, values=None):
        """Run the transition ``code`` on every process of ``self``, all or
        nothing. Return True, or an action opening the record the transition
        created when it ran on one process."""
        values = self._check_call(code, values)
        if not self:
            raise UserError(self.env._("Select at least one Sales Process."))
        self.check_access("write")
        self._lock()
        transitions = {}
        missing = self.env["crm.sales.process"]
        for workflow, processes in self.grouped("workflow_id").items():
            transition = workflow.transition_ids.filtered(lambda t: t.code == code and not t.is_start)[:1]
            if not transition:
                missing |= processes
            transitions.update(dict.fromkeys(processes, transition))
        if missing:
            raise UserError(
                self.env._(
                    'There is no transition "%(code)s" in the workflow of %(processes)s.',
                    code=code,
                    processes=", ".join(f'"{p.display_name}"' for p in missing[:10]),
                )
            )
        return self._run(transitions, values)

    # ------------------------------------------------------------------
    # The engine: every transition goes through _run
    # ------------------------------------------------------------------

    @api.model
    def _check_call(self, code, values):
        if not isinstance(code, str) or not code:
            raise UserError(self.env._("A transition code must be a non-empty string."))
        if values is None or values is False:
            return {}
        if not isinstance(values, dict):
            raise UserError(
                self.env._(
                    'Values of transition "%(code)s" must be a dictionary, not %(value)r.',
                    code=code,
                    value=values,
                )
            )
        return values

    def _lock(self):
        """Lock the process rows for the whole transition: of two users racing
        on one process, the second is refused at once instead of acting on a
        step that is about to change."""
        try:
            self.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "%(processes)s is being moved on by another user (or changed by an "
                    "automated task) right now. Reload it to see its new step, then try again.",
                    processes=", ".join(f'"{p.display_name}"' for p in self[:10]),
                )
            ) from None

    def _run(self, transitions, values):
        """Check every process of the batch, then apply the effects, then
        record the new steps and the log. Nothing is changed unless every
        process passes every check."""
        plans = self._plan(transitions, values)
        # the tracking messages of its records, which Odoo creates when the
        # savepoint ends, are created in one go (crm.lead._message_track)
        with batched_chatter(self._plan_records(plans).ids), self.env.cr.savepoint():
            with engine_writes():
                self._enter_steps(plans)
                created = {}
                for (effect, transition), processes in self._group_plans(plans).items():
                    method = getattr(processes, f"_effect_{effect}")
                    created.update(method(transition, plans) or {})
                self._finish(plans, created)
                self._send_transition_emails(plans, created)
            # outside the engine's rights (the guard applies), inside its
            # savepoint: a failing server action undoes the transition
            self._run_server_actions(plans, created)
            self.env.flush_all()
        if len(self) == 1 and created:
            return created[self]._get_form_action()
        return True

    def _group_plans(self, plans):
        groups = defaultdict(lambda: self.env["crm.sales.process"])
        for process, plan in plans.items():
            transition = plan["transition"]
            groups[transition.effect, transition] |= process
        return groups

    def _plan(self, transitions, values):
        """Return {process: {'transition', 'values', 'record'}} or raise one
        UserError listing what is wrong with each refused process."""
        errors = []
        plans = {}
        clean_by_transition = {}
        available = self._available_transitions()
        for process in self:
            transition = transitions[process]
            record = process.current_lead_id
            if transition not in clean_by_transition:
                clean_by_transition[transition] = self._clean_values(transition, values)
            problems = process._check_transition(transition, available)
            vals = dict(clean_by_transition[transition])
            if not problems:
                process._complete_values(transition, vals, record)
                problems = process._check_values(transition, vals, record)
            if problems:
                errors.append(process._refusal(transition, "; ".join(problems)))
            plans[process] = {"transition": transition, "values": vals, "record": record}
        if errors:
            message = listed(self.env, errors)
            if len(self) > 1:
                message = (
                    self.env._(
                        "Nothing was changed: %(count)s of %(total)s Sales Processes cannot take this transition.",
                        count=len(errors),
                        total=len(self),
                    )
                    + "\n"
                    + message
                )
            raise UserError(message)
        return plans

    def _refusal(self, transition, problem):
        self.ensure_one()
        return self.env._(
            '"%(transition)s" cannot run on "%(process)s" (step "%(step)s"): %(problem)s',
            transition=transition.name,
            process=self.display_name,
            step=self.step_id.name or self.env._("not started"),
            problem=problem,
        )

    def _check_transition(self, transition, available):
        """Problems with running ``transition`` from the process's step."""
        self.ensure_one()
        if transition.is_start:
            return [] if not self.step_id else [self.env._("the process has already started")]
        if self.step_id not in transition.from_step_ids:
            names = ", ".join(available.get(self, transition.browse()).mapped("name"))
            return [
                self.env._(
                    "it is not available in this step (the process may have just "
                    "been moved on by another user); available now: %(names)s",
                    names=names or self.env._("none"),
                )
            ]
        if not transition._is_allowed_for_user(self.env.user):
            return [
                self.env._(
                    "only members of %(groups)s can run it",
                    groups=", ".join(transition.group_ids.mapped("full_name")),
                )
            ]
        if transition not in available.get(self, transition.browse()):
            return [self.env._("the record does not meet the transition's condition")]
        return []

    def _available_transitions(self):
        """{process: transitions it can take now, in workflow order}."""
        user = self.env.user
        result = {}
        by_workflow = self.grouped("workflow_id")
        for workflow, processes in by_workflow.items():
            candidates = workflow.transition_ids.filtered(lambda t: not t.is_start and t._is_allowed_for_user(user))
            # sets of ids: a recordset's "in" scans its ids
            matching = {t: set(t._matching_records(processes.current_lead_id)._ids) for t in candidates}
            from_steps = {t: set(t.from_step_ids._ids) for t in candidates}
            for process in processes:
                step_id, record_id = process.step_id.id, process.current_lead_id.id
                result[process] = candidates.filtered(
                    lambda t, s=step_id, r=record_id, f=from_steps, m=matching: s in f[t] and r in m[t]
                )
        return result

    # ------------------------------------------------------------------
    # Values: type checks, defaults, effect-specific rules
    # ------------------------------------------------------------------

    @api.model
    def _clean_values(self, transition, values):
        """Type-check the submitted values against the fields of the
        transition form; return them normalized (ids, dates, stripped text)."""
        spec = transition._value_spec()
        form = self.env["crm.sales.process.transition.wizard"]
        unknown = sorted(set(values) - set(spec))
        problems = []
        if unknown:
            problems.append(
                self.env._(
                    "unknown values %(unknown)s (it takes %(known)s)",
                    unknown=", ".join(map(str, unknown)),
                    known=", ".join(spec) or self.env._("no values"),
                )
            )
        clean = {}
        for key in spec:
            if key not in values:
                continue
            field = form._fields[key]
            clean_value = self._clean_flag if field.type == "boolean" else self._clean_value
            value, problem = clean_value(field, values[key])
            if problem:
                problems.append(problem)
            else:
                # an empty value (None) stays: it means empty, and a default
                # fills only the keys a call leaves out (as Odoo's default_get)
                clean[key] = value
        if problems:
            raise UserError(
                self.env._(
                    '"%(transition)s" was refused: %(problems)s. Nothing was changed.',
                    transition=transition.name,
                    problems="; ".join(problems),
                )
            )
        return clean

    @api.model
    def _clean_value(self, field, value):
        """Return (normalized value or None when empty, problem or None)."""
        label = field._description_string(self.env)
        if value is None or value is False or value == "":
            return None, None
        if field.type == "many2one":
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                return None, self.env._("%(label)s must be a record id, not %(value)r", label=label, value=value)
            Comodel = self.env[field.comodel_name].with_context(active_test=False)
            Comodel.check_access("read")
            # one query: exists, passes the record rules, is it active, and
            # its other fields the transition reads (its name in the chatter)
            record = Comodel.search_fetch([("id", "=", value)])
            if not record:
                return None, self.env._(
                    "%(label)s: there is no record with id %(id)s you can read", label=label, id=value
                )
            if "active" in record._fields and not record.active:
                return None, self.env._(
                    '%(label)s: "%(name)s" is archived',
                    label=label,
                    name=record.display_name,
                )
            return record.id, None
        if field.type in ("float", "monetary", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None, self.env._("%(label)s must be a number, not %(value)r", label=label, value=value)
            if isinstance(value, float) and not math.isfinite(value):
                return None, self.env._("%(label)s must be a finite number", label=label)
            if value < 0:
                return None, self.env._("%(label)s cannot be negative (%(value)s)", label=label, value=value)
            if field.name == "probability" and value > 100:
                return None, self.env._(
                    "%(label)s must be between 0 and 100 (%(value)s)",
                    label=label,
                    value=value,
                )
            return float(value), None
        if field.type == "date":
            try:
                day = fields.Date.to_date(value)
            except (TypeError, ValueError):
                day = None
            if not isinstance(day, datetime.date):
                return None, self.env._(
                    "%(label)s must be a date (YYYY-MM-DD), not %(value)r",
                    label=label,
                    value=value,
                )
            return fields.Date.to_string(day), None
        if not isinstance(value, str):
            return None, self.env._("%(label)s must be text, not %(value)r", label=label, value=value)
        if field.type == "html" and is_html_empty(value):
            return None, None
        value = value.strip()
        return value or None, None

    @api.model
    def _clean_flag(self, field, value):
        """_clean_value of a yes/no value (send_email): false is empty."""
        if value is None or value is False:
            return None, None
        if value is not True:
            label = field._description_string(self.env)
            return None, self.env._("%(label)s must be true or false, not %(value)r", label=label, value=value)
        return True, None

    def _complete_values(self, transition, vals, record):
        """Fill in the defaults of DESIGN.md section 1, for the keys the call
        left out only: a key given empty stays empty."""
        self.ensure_one()
        effect = transition.effect
        today = fields.Date.to_string(fields.Date.context_today(self))
        if effect == "start":
            vals.setdefault("team_id", record.team_id.id)
            # the record's salesperson: starting a process does not hand the
            # record to whoever starts it (a manager starting one for his team)
            vals.setdefault("user_id", record.user_id.id or self.env.uid)
            vals.setdefault("date_start", today)
        elif effect == "qualify":
            vals.setdefault("opportunity_name", record.name)
            # the customer is one value given as either key: its default (each
            # lead of a batch its own company, else its company name) applies
            # when the call gives neither
            if "partner_id" not in vals and "company_name" not in vals:
                company = record.partner_id.commercial_partner_id
                if company.is_company:
                    vals["partner_id"] = company.id
                elif record.partner_name:
                    vals["company_name"] = record.partner_name
        elif effect in ("close_won", "close_lost"):
            vals.setdefault("close_date", today)

    def _check_values(self, transition, vals, record):
        """Problems with the (completed) values of one process."""
        self.ensure_one()
        problems = []
        form = self.env["crm.sales.process.transition.wizard"]
        missing = [
            form._fields[key]._description_string(self.env)
            for key, required in transition._value_spec().items()
            if required and not vals.get(key) and vals.get(key) != 0
        ]
        if missing:
            problems.append(self.env._("missing %(fields)s", fields=", ".join(missing)))
        problems += transition._missing_record_fields(record)
        checker = getattr(self, f"_check_values_{transition.effect}", None)
        if checker:
            problems += checker(vals, record)
        return problems

    def _check_values_start(self, vals, record):
        problems = []
        team = self.env["crm.team"].browse(vals.get("team_id"))
        if not team:
            problems.append(self.env._("a B2B sales channel is required"))
        elif team.channel_type != "b2b":
            problems.append(self.env._('the sales channel "%(team)s" is not a B2B channel', team=team.name))
        elif (
            team != record.team_id and team.company_id and record.company_id and (team.company_id != record.company_id)
        ):
            problems.append(
                self.env._(
                    'the sales channel "%(team)s" belongs to another company',
                    team=team.name,
                )
            )
        user = self.env["res.users"].browse(vals.get("user_id"))
        if user and user.share:
            problems.append(self.env._('the owner "%(user)s" is not an internal user', user=user.name))
        return problems

    def _check_values_qualify(self, vals, record):
        problems = []
        if not vals.get("partner_id") and not vals.get("company_name"):
            problems.append(self.env._("missing Customer: give an existing company or a company name"))
        partner = self.env["res.partner"].browse(vals.get("partner_id"))
        if partner and not partner.is_company:
            problems.append(self.env._('the customer "%(partner)s" must be a company', partner=partner.name))
        return problems

    def _check_values_develop(self, vals, record):
        partner = self.env["res.partner"].browse(vals.get("partner_id"))
        contact = self.env["res.partner"].browse(vals.get("contact_id"))
        if contact and partner and contact.commercial_partner_id != partner.commercial_partner_id:
            return [
                self.env._(
                    'the contact "%(contact)s" does not belong to the customer "%(partner)s"',
                    contact=contact.name,
                    partner=partner.name,
                )
            ]
        return []

    # ------------------------------------------------------------------
    # After the effects: new steps, links, stages, log
    # ------------------------------------------------------------------

    @api.model
    def _step_after(self, process, plan):
        """The step a plan leads to: a follow-up stays where it is."""
        transition = plan["transition"]
        return process.step_id if transition.effect == "follow_up" else transition.to_step_id

    def _enter_steps(self, plans):
        """The records a transition keeps take their new step (and an open
        opportunity step its pipeline stage) before the effect runs, so that
        the effect's own writes flush with them in one update per record."""
        steps = defaultdict(lambda: self.env["crm.lead"])
        links = defaultdict(lambda: self.env["crm.lead"])
        stages = defaultdict(lambda: self.env["crm.lead"])
        for process, plan in plans.items():
            if plan["transition"].effect in NEW_RECORD_EFFECTS:
                continue  # the new record is linked at its creation
            to_step = self._step_after(process, plan)
            record = plan["record"]
            if record.sales_process_id != process:
                links[process, to_step] |= record
            elif record.sales_process_step_id != to_step:
                steps[to_step] |= record
            stage = to_step.stage_id
            if (
                stage
                and to_step.record_type == "opportunity"
                and to_step.outcome == "open"
                and record.stage_id != stage
            ):
                stages[stage] |= record
        for step, records in steps.items():
            records.write({"sales_process_step_id": step.id})
        if links:
            # a start links each record to its own process: one write each,
            # as sudo since _start checked the write access of the batch, and
            # with the field tracking reads (not prefetched) read in one go
            linked = self.env["crm.lead"].union(*links.values()).sudo()
            linked.fetch(["lead_properties"])
            for (process, step), records in links.items():
                records.sudo().write({"sales_process_id": process.id, "sales_process_step_id": step.id})
        for stage, records in stages.items():
            records.write({"stage_id": stage.id})

    def _finish(self, plans, created):
        """The processes take their new step and record; one log line each;
        the activity plans of the steps they enter are launched."""
        now = fields.Datetime.now()
        process_groups = defaultdict(lambda: self.env["crm.sales.process"])
        log_vals = []
        entered = {}
        for process, plan in plans.items():
            to_step = self._step_after(process, plan)
            record = created.get(process) or plan["record"]
            update = {}
            if process.step_id != to_step:
                update["step_id"] = to_step.id
                update["date_step"] = now
                # a new stay: the overdue reminder and the activity plan of an
                # earlier stay in that step are not for it
                update["overdue_step_id"] = False
                update["activity_plan_id"] = False
                if to_step.activity_plan_id:
                    entered[process] = (to_step, record)
            if to_step.record_type == "lead" and process.lead_id != record:
                update["lead_id"] = record.id
            if to_step.record_type == "opportunity" and process.opportunity_id != record:
                update["opportunity_id"] = record.id
            if update:
                process_groups[tuple(sorted(update.items()))] |= process
            log_vals.append(process._log_values(plan, to_step, record, now))
        # the engine's own bookkeeping, access checked when the call began: a
        # transition that hands the record to a colleague still completes
        for update, processes in process_groups.items():
            processes.sudo().write(dict(update))
        self.env["crm.sales.process.log"].sudo().create(log_vals)
        self.invalidate_recordset(["log_ids"])
        if entered:
            self._launch_activity_plans(entered)

    def _log_values(self, plan, to_step, record, now):
        self.ensure_one()
        return {
            "process_id": self.id,
            "transition_id": plan["transition"].id,
            "from_step_id": self.step_id.id,
            "to_step_id": to_step.id,
            "user_id": self.env.uid,
            "date": now,
            "values": plan["values"],
            "lead_id": plan["record"].id,
            "new_lead_id": record.id if record != plan["record"] else False,
            "company_id": record.company_id.id,
            # read before _finish writes the new date_step (the analysis' time in step)
            "date_from_step": self.date_step if self.step_id else False,
        }

    def _run_server_actions(self, plans, created):
        """The server action of each transition, on the records the processes
        are about after it."""
        records_by_action = defaultdict(lambda: self.env["crm.lead"])
        for process, plan in plans.items():
            action = plan["transition"].sudo().server_action_id
            if action:
                records_by_action[action] |= created.get(process) or plan["record"]
        for action, records in records_by_action.items():
            # run with the user's rights (run() itself reads the action as sudo)
            action.sudo(False).with_context(
                active_model="crm.lead", active_ids=records.ids, active_id=records[:1].id
            ).run()

    @api.model_create_multi
    def create(self, vals_list):
        if not in_engine():
            raise UserError(
                self.env._(
                    "A Sales Process is created by starting it from a lead or an "
                    'opportunity (the "Start Sales Process" button, or '
                    "start_from_lead / start_from_opportunity)."
                )
            )
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Guard
    # ------------------------------------------------------------------

    def write(self, vals):
        if not in_engine():
            if {"workflow_id", "lead_id", "opportunity_id"} & set(vals):
                raise UserError(
                    self.env._("The workflow, lead and opportunity of a Sales Process are set by its transitions only.")
                )
            if "step_id" in vals:
                vals = dict(vals)
                self._move_to_step(self.env["crm.sales.process.step"].browse(vals.pop("step_id")))
                if not vals:
                    return True
        return super().write(vals)

    def unlink(self):
        self.check_access("unlink")
        records = self.lead_ids
        with engine_writes():
            records.write({"sales_process_id": False, "sales_process_step_id": False})
        # the log lines go with the processes (cascade): out of the summary first
        self.env["crm.sales.process.log"]._unfold_summary(SQL("log.process_id = ANY(%s)", self.ids))
        return super().unlink()
