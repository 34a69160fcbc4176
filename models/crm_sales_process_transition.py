# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from lxml import etree

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

EFFECTS = [
    ("start", "Start a process"),
    ("qualify", "Qualify: convert the lead to an opportunity"),
    ("disqualify", "Disqualify: the lead is lost"),
    ("follow_up", "Follow up: post a note"),
    ("reactivate", "Reactivate: a new lead from the disqualified one"),
    ("develop", "Develop the opportunity"),
    ("close_won", "Close as won"),
    ("close_lost", "Close as lost"),
    ("reopen", "Reopen: a new opportunity from the closed one"),
    ("none", "None: change step only"),
]

# The values each effect takes (True: required). Their labels and types are the
# fields of the same names on the transition wizard, the form that collects them.
EFFECT_VALUES = {
    # team_id is required too: the start checks refuse a process without a
    # B2B channel in their own words
    "start": {"team_id": False, "user_id": False, "date_start": True},
    "qualify": {
        "opportunity_name": True,
        "partner_id": False,
        "company_name": False,
        "notes": False,
    },
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
    "close_won": {"close_revenue": True, "close_date": True},
    "close_lost": {"lost_reason_id": True, "close_date": True},
    "reopen": {},
    "none": {},
}

# Where an effect makes sense: (record type, outcomes) it leaves from and
# (record type, outcome) it arrives to. None means "no step" (start) or "the
# same as the step it leaves" (follow-up stays where it is).
EFFECT_SHAPES = {
    "start": (None, (None, "open")),
    "qualify": (("lead", ("open",)), ("opportunity", "open")),
    "disqualify": (("lead", ("open",)), ("lead", "lost")),
    "follow_up": ((None, ("open", "won", "lost")), None),
    "reactivate": (("lead", ("lost",)), ("lead", "open")),
    "develop": (("opportunity", ("open",)), ("opportunity", "open")),
    "close_won": (("opportunity", ("open",)), ("opportunity", "won")),
    "close_lost": (("opportunity", ("open",)), ("opportunity", "lost")),
    "reopen": (("opportunity", ("won", "lost")), ("opportunity", "open")),
    "none": ((None, ("open",)), (None, "open")),
}

# Effects that create a new record and move the process onto it.
NEW_RECORD_EFFECTS = ("reactivate", "reopen")


class CrmSalesProcessTransition(models.Model):
    _name = "crm.sales.process.transition"
    _description = "Sales Process Transition"
    _order = "workflow_id, sequence, id"

    workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        required=True,
        index=True,
        ondelete="cascade",
    )
    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Technical name, unique in its workflow; external clients call run_transition with it.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    effect = fields.Selection(EFFECTS, required=True, default="none")
    from_step_ids = fields.Many2many(
        "crm.sales.process.step",
        "crm_sales_process_transition_from_step_rel",
        "transition_id",
        "step_id",
        string="From Steps",
        help="Empty for a start transition.",
    )
    to_step_id = fields.Many2one(
        "crm.sales.process.step",
        required=True,
        ondelete="restrict",
    )
    is_start = fields.Boolean(compute="_compute_is_start", store=True)
    button_style = fields.Selection(
        [("primary", "Primary"), ("secondary", "Secondary"), ("danger", "Danger")],
        default="secondary",
        required=True,
    )
    group_ids = fields.Many2many(
        "res.groups",
        "crm_sales_process_transition_group_rel",
        "transition_id",
        "group_id",
        string="Allowed Groups",
        help="Only members of these groups can run the transition; empty: every user of the process.",
    )

    confirm_message = fields.Text(
        "Confirmation",
        translate=True,
        help="Asked before the transition runs; leave empty to run it at once.",
    )
    domain = fields.Char(
        "Condition",
        default="[]",
        help="A domain on the lead or opportunity: the transition is offered only when the record matches it.",
    )
    server_action_id = fields.Many2one(
        "ir.actions.server",
        domain="[('model_id.model', '=', 'crm.lead')]",
        ondelete="restrict",
        help="Run on the lead or opportunity after the transition's effect, "
        "with the rights of the user; if it fails, the transition is undone.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "crm.lead")],
        ondelete="set null",
        help="Sent to the customer of the lead or opportunity when the transition runs "
        "(Odoo's mail composer in mass mail mode, logged in its chatter); a customer "
        "without an email address does not stop the transition: the chatter says the "
        "email was not sent.",
    )
    mail_optional = fields.Boolean(
        "Email Can Be Skipped",
        default=True,
        help="The transition form lets the user turn the email off for this run.",
    )
    required_field_ids = fields.Many2many(
        "ir.model.fields",
        "crm_sales_process_transition_field_rel",
        "transition_id",
        "field_id",
        string="Required Record Fields",
        domain="[('model', '=', 'crm.lead'), ('store', '=', True)]",
        help="Fields of the lead or opportunity that must be filled in before the transition runs.",
    )

    @api.depends("from_step_ids")
    def _compute_is_start(self):
        for transition in self:
            transition.is_start = not transition.from_step_ids

    _code_uniq = models.Constraint("UNIQUE(workflow_id, code)", "A transition code must be unique in its workflow.")

    @api.constrains("workflow_id", "from_step_ids", "to_step_id", "effect")
    def _check_shape(self):
        """A transition links steps of its own workflow, and its effect fits
        the steps it leaves and reaches (e.g. qualify: from an open lead step
        to an open opportunity step)."""
        for transition in self:
            problems = transition._shape_problems()
            if problems:
                raise ValidationError(
                    self.env._(
                        'Transition "%(name)s" of "%(workflow)s": %(problems)s.',
                        name=transition.name,
                        workflow=transition.workflow_id.name,
                        problems="; ".join(problems),
                    )
                )

    def _shape_problems(self):
        self.ensure_one()
        steps = self.from_step_ids | self.to_step_id
        if steps.workflow_id != self.workflow_id:
            return [self.env._("its steps must belong to its own workflow")]
        effect_label = dict(self._fields["effect"]._description_selection(self.env))[self.effect]
        if self.effect == "start" or not self.from_step_ids:
            if self.effect != "start":
                return [
                    self.env._(
                        "a transition without From Steps starts a process: give it the "
                        'effect "Start a process", or choose its From Steps'
                    )
                ]
            if self.from_step_ids:
                return [self.env._("a start transition has no From Steps")]
            if self.to_step_id.outcome != "open":
                return [self.env._('a process starts in an open step, not in "%s"', self.to_step_id.name)]
            return []
        (from_type, from_outcomes), arrival = EFFECT_SHAPES[self.effect]
        problems = []
        for step in self.from_step_ids:
            if from_type and step.record_type != from_type or step.outcome not in from_outcomes:
                problems.append(
                    self.env._(
                        '"%(effect)s" cannot leave from "%(step)s" (a %(outcome)s %(type)s step)',
                        effect=effect_label,
                        step=step.name,
                        outcome=step.outcome,
                        type=step.record_type,
                    )
                )
        to_step = self.to_step_id
        if self.effect == "follow_up":
            if to_step not in self.from_step_ids:
                problems.append(self.env._("a follow-up stays in its step: its To Step must be one of its From Steps"))
        else:
            to_type, to_outcome = arrival
            if (to_type or self.from_step_ids[:1].record_type) != to_step.record_type or (
                to_step.outcome != to_outcome
            ):
                problems.append(
                    self.env._(
                        '"%(effect)s" cannot lead to "%(step)s" (a %(outcome)s %(type)s step)',
                        effect=effect_label,
                        step=to_step.name,
                        outcome=to_step.outcome,
                        type=to_step.record_type,
                    )
                )
            if self.effect == "none" and set(self.from_step_ids.mapped("record_type")) != {to_step.record_type}:
                problems.append(
                    self.env._(
                        "a transition without effect keeps the record type: lead steps "
                        "to lead steps, opportunity steps to opportunity steps"
                    )
                )
        return problems

    @api.constrains("domain")
    def _check_domain(self):
        for transition in self:
            try:
                domain = safe_eval(transition.domain or "[]", {"uid": self.env.uid, "user": self.env.user})
                self.env["crm.lead"].search(domain, limit=1)
            except Exception as error:  # noqa: BLE001 -- any failure means an invalid condition
                raise ValidationError(
                    self.env._(
                        'The condition of transition "%(name)s" is not a valid domain on leads: %(error)s',
                        name=transition.name,
                        error=error,
                    )
                ) from None

    @api.model_create_multi
    def create(self, vals_list):
        transitions = super().create(vals_list)
        transitions.workflow_id._check_in_use_usable()
        self.env.registry.clear_cache("templates")
        return transitions

    def write(self, vals):
        workflows = self.workflow_id
        result = super().write(vals)
        (workflows | self.workflow_id)._check_in_use_usable()
        # the header buttons of the forms are built from the transitions
        self.env.registry.clear_cache("templates")
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_logged(self):
        used = self.env["crm.sales.process.log"].sudo().search([("transition_id", "in", self.ids)], limit=1)
        if used:
            raise UserError(
                self.env._(
                    'Transition "%(name)s" is in the log of Sales Processes: archive it instead of deleting it.',
                    name=used.transition_id.name,
                )
            )

    def unlink(self):
        workflows = self.workflow_id
        result = super().unlink()
        workflows._check_in_use_usable()
        self.env.registry.clear_cache("templates")
        return result

    @api.model
    def _inject_header_buttons(self, arch, available_field):
        """Put the transition buttons first in the header of a form arch."""
        header = arch.find(".//header")
        if header is None:
            return
        for button in reversed(self._header_buttons(available_field)):
            header.insert(0, button)

    @api.model
    def _header_buttons(self, available_field):
        """One header button per transition of every active workflow, shown
        when the record's ``available_field`` holds it: the form view stays
        one cached arch whatever the workflows hold."""
        if not self.has_access("read"):
            return []
        # the workflows the user can read: those of their companies, or shared
        # (the view cache key includes the companies, see _get_view_cache_key)
        transitions = self.search(
            [("is_start", "=", False), ("workflow_id.active", "=", True)],
            order="sequence, id",
        )
        css = {"primary": "btn-primary", "secondary": "btn-secondary", "danger": "btn-danger"}
        buttons = []
        for transition in transitions:
            attrs = {
                "name": "action_sales_process_transition",
                "type": "object",
                "string": transition.name,
                "class": f"{css[transition.button_style]} o_sales_process_transition",
                "context": repr({"sales_process_transition_id": transition.id}),
                "invisible": f"{transition.id} not in {available_field}",
                "data-transition-code": transition.code,
            }
            if transition.confirm_message and not transition._opens_form():
                attrs["confirm"] = transition.confirm_message
            buttons.append(etree.Element("button", attrs))
        return buttons

    def _value_spec(self):
        """{key: required} for the values this transition takes: its
        effect's, and send_email when it sends one the user may skip."""
        self.ensure_one()
        if self.mail_template_id and self.mail_optional:
            return {**EFFECT_VALUES[self.effect], "send_email": False}
        return EFFECT_VALUES[self.effect]

    def _opens_form(self):
        """Whether its button opens the transition form: it takes values, or
        it sends an email (the form says to whom)."""
        self.ensure_one()
        return bool(self._value_spec() or self.mail_template_id)

    def _is_allowed_for_user(self, user):
        self.ensure_one()
        return not self.group_ids or bool(self.group_ids & user.all_group_ids)

    def _matching_records(self, records):
        """The records that meet the transition's condition."""
        self.ensure_one()
        domain = safe_eval(self.domain or "[]", {"uid": self.env.uid, "user": self.env.user})
        return records.filtered_domain(domain) if domain else records

    def _missing_record_fields(self, record):
        """Refusal lines for the required record fields left empty."""
        self.ensure_one()
        # like a required field in a form, except that an amount of 0 counts
        # as not filled in: Odoo cannot tell an empty number from 0
        missing = [field.field_description for field in self.sudo().required_field_ids if not record[field.name]]
        if not missing:
            return []
        return [self.env._("fill in %(fields)s on the record first", fields=", ".join(missing))]

    def _confirmation_text(self, processes):
        self.ensure_one()
        return self.confirm_message or False
