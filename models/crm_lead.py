# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import LockError, UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from .crm_sales_process import listed
from .engine_writes import batched_chatter_ids, batched_messages, in_engine, message_queue

_logger = logging.getLogger(__name__)

# Fields whose change may move a record into a channel that starts a process
# for every new record (Odoo recomputes the channel of a new salesperson).
AUTO_START_KEYS = {"team_id", "type", "user_id"}
# Fields only the transitions write.
PROCESS_FIELDS = {"sales_process_id", "sales_process_step_id", "sales_process_origin_id"}
# Fields Odoo itself maintains on any record, closed ones included (lead
# scoring cron, mail gateway): a read-only step does not refuse them.
SYSTEM_FIELDS = {
    "automated_probability",
    "date_automation_last",
    "message_main_attachment_id",
    "message_bounce",
}
# The arguments of the message_post and _message_log calls a batch of a
# transition queues (engine_writes.batched_messages): those of Odoo's tracking
# (mail.thread._message_track), of its creation message (mail.thread.create)
# and of the follow-up note; any other call posts at once.
QUEUED_POST_KEYS = frozenset({"body", "subtype_id", "subtype_xmlid", "author_id", "message_type", "tracking_value_ids"})
QUEUED_LOG_KEYS = frozenset({"body", "author_id", "tracking_value_ids"})


class CrmLead(models.Model):
    _inherit = "crm.lead"

    sales_process_id = fields.Many2one(
        "crm.sales.process",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    sales_process_step_id = fields.Many2one(
        "crm.sales.process.step",
        index="btree_not_null",
        copy=False,
        readonly=True,
        tracking=True,
        ondelete="restrict",
        help="The step of the Sales Process this record is in; a record a "
        "process has moved on from keeps the step it was left in.",
    )
    # the inverse of crm.sales.process.current_lead_id: with it the ORM finds
    # the process to recompute when a lead changes by reading this field for
    # the whole prefetch set, instead of one search per written lead
    sales_process_current_ids = fields.One2many("crm.sales.process", "current_lead_id", string="Sales Process Followed")
    sales_process_readonly = fields.Boolean(related="sales_process_step_id.readonly")
    sales_process_workflow_id = fields.Many2one(related="sales_process_id.workflow_id")
    sales_process_guidance = fields.Html(related="sales_process_step_id.guidance")
    sales_process_activities = fields.Html(
        "Open Activities",
        compute="_compute_sales_process_activities",
        help="The record's open activities, listed under the guidance of its step "
        "(the step's activity plan schedules them when the process enters it).",
    )
    sales_process_is_current = fields.Boolean(
        compute="_compute_sales_process_is_current",
        help="The process follows this record (and not a newer one made from it).",
    )
    sales_process_can_start = fields.Boolean(compute="_compute_sales_process_can_start")
    sales_process_origin_id = fields.Many2one(
        "crm.lead",
        string="Created From",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The disqualified lead or closed opportunity this record was reactivated or reopened from.",
    )
    budget_amount = fields.Monetary("Budget", currency_field="company_currency", tracking=True)
    customer_need = fields.Text()
    proposed_solution = fields.Text()
    sales_process_transition_ids = fields.Many2many(
        "crm.sales.process.transition",
        string="Sales Process Transitions",
        compute="_compute_sales_process_transition_ids",
        help="The transitions its process can take now from this record.",
    )

    @api.depends(
        "sales_process_id",
        "activity_ids.summary",
        "activity_ids.date_deadline",
        "activity_ids.user_id",
        "activity_ids.activity_type_id",
    )
    def _compute_sales_process_activities(self):
        today = fields.Date.context_today(self)
        for lead in self:
            activities = lead.activity_ids.sorted("date_deadline") if lead.sales_process_id else False
            if not activities:
                lead.sales_process_activities = False
                continue
            items = []
            for activity in activities:
                text = self.env._(
                    "%(activity)s, %(user)s, due on %(deadline)s",
                    activity=activity.summary or activity.activity_type_id.name,
                    user=activity.user_id.name or self.env._("unassigned"),
                    deadline=format_date(self.env, activity.date_deadline),
                )
                late = activity.date_deadline < today
                items.append(Markup('<li class="%s">%s</li>') % ("text-danger" if late else "", text))
            lead.sales_process_activities = Markup('<ul class="mb-0">%s</ul>') % Markup().join(items)

    @api.depends("sales_process_id.current_lead_id")
    def _compute_sales_process_is_current(self):
        for lead in self:
            lead.sales_process_is_current = lead.sales_process_id.current_lead_id == lead

    @api.depends("sales_process_id", "team_id.channel_type", "active", "won_status")
    def _compute_sales_process_can_start(self):
        for lead in self:
            lead.sales_process_can_start = (
                not lead.sales_process_id
                and lead.team_id.channel_type == "b2b"
                and lead.active
                and lead.won_status == "pending"
            )

    @api.depends("sales_process_id.step_id", "sales_process_step_id")
    @api.depends_context("uid")
    def _compute_sales_process_transition_ids(self):
        current = self.filtered(lambda lead: lead.sales_process_id.current_lead_id == lead)
        available = current.sales_process_id._available_transitions()
        for lead in self:
            lead.sales_process_transition_ids = (
                available.get(lead.sales_process_id, self.env["crm.sales.process.transition"])
                if lead in current
                else False
            )

    # ------------------------------------------------------------------
    # Guard: every write path on a record in a process
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not in_engine() and any(PROCESS_FIELDS & set(vals) for vals in vals_list):
            raise UserError(
                self.env._(
                    "The Sales Process fields of a lead are set by the process's "
                    "transitions only; start a process with the "
                    '"Start Sales Process" button.'
                )
            )
        leads = super().create(vals_list)
        leads._sales_process_auto_start()
        return leads

    def write(self, vals):
        if in_engine():
            return super().write(vals)
        in_process = self.filtered("sales_process_id")
        others = self - in_process
        # records that follow no process and that the write may move into a
        # channel starting a process for every new record (of their type,
        # after the write: a lead Odoo converts is new among the opportunities)
        starting = (
            others
            if others and AUTO_START_KEYS & set(vals) and self.env["crm.team"]._sales_process_auto_start()
            else self.browse()
        )
        if not in_process and not starting:
            return super().write(vals)
        before = {lead: (lead.team_id.id, lead.type) for lead in starting}
        writes = []
        if in_process:
            moved = in_process._sales_process_guard_write(vals)
            if moved:
                # their transition has set the stage; write the rest only
                rest = {k: v for k, v in vals.items() if k != "stage_id"}
                if rest:
                    writes += moved._sales_process_writes_in_channel(rest)
            writes += (in_process - moved)._sales_process_writes_in_channel(vals)
        writes.append((others, vals))
        for records, values in writes:
            if records:
                super(CrmLead, records).write(values)
        if starting:
            starting._sales_process_auto_start(before)
        return True

    def _sales_process_writes_in_channel(self, vals):
        """Odoo gives a lead whose salesperson changes a team of that
        salesperson's; a record in a process keeps its B2B channel unless
        the write names one. Return the (records, values) writes to make."""
        if "user_id" not in vals or "team_id" in vals:
            return [(self, vals)]
        return [(leads, dict(vals, team_id=team.id)) for team, leads in self.grouped("team_id").items()]

    def _sales_process_guard_write(self, vals):
        """Refuse what would make a record and its process disagree; run the
        transition a stage drag asks for. Return the records moved that way."""
        keys = set(vals)
        if keys & PROCESS_FIELDS:
            raise UserError(self.env._("The Sales Process fields of a lead are set by the process's transitions only."))
        frozen = self._sales_process_frozen()
        if frozen and keys - SYSTEM_FIELDS:
            raise UserError(frozen[0]._sales_process_frozen_message())
        if "type" in vals:
            changing = self.filtered(lambda lead: lead.type != vals["type"])
            if changing:
                raise UserError(
                    changing[0]._sales_process_hint(
                        ("qualify",),
                        self.env._(
                            '"%(lead)s" follows a Sales Process: it becomes an opportunity through its transition only.'
                        ),
                    )
                )
        if "active" in vals:
            changing = self.filtered(lambda lead: lead.active != bool(vals["active"]))
            if changing:
                lead = changing[0]
                if lead.active:
                    effects = ("disqualify", "close_lost")
                    message = self.env._(
                        '"%(lead)s" follows a Sales Process: it is archived by closing it as lost only.'
                    )
                else:
                    effects = ("reactivate", "reopen")
                    message = self.env._(
                        '"%(lead)s" is closed in its Sales Process and stays as it '
                        "is; a new record is made from it instead."
                    )
                raise UserError(lead._sales_process_hint(effects, message))
        if vals.get("team_id"):
            team = self.env["crm.team"].browse(vals["team_id"])
            if team.channel_type != "b2b":
                raise UserError(
                    self.env._(
                        '"%(lead)s" follows a Sales Process, which needs a B2B sales channel; "%(team)s" is not one.',
                        lead=self[0].display_name,
                        team=team.display_name,
                    )
                )
        if vals.get("stage_id"):
            return self._sales_process_move_to_stage(vals["stage_id"])
        return self.browse()

    def _sales_process_move_to_stage(self, stage_id):
        """A stage change (kanban drag, list edit, RPC): staying in the step
        is free; a won stage or the stage of another step runs the transition
        that leads there, or is refused. Return the records so moved."""
        stage = self.env["crm.stage"].browse(stage_id)
        leads = self.filtered(lambda lead: lead.stage_id != stage)
        available = leads.sales_process_id._available_transitions()
        transitions = {}
        moved = self.browse()
        for lead in leads:
            process = lead.sales_process_id
            step = lead.sales_process_step_id
            if process.current_lead_id != lead or step.outcome != "open":
                raise UserError(lead._sales_process_frozen_message())
            if stage.is_won:
                leads_there = lambda t: t.effect == "close_won"
            else:
                targets = process.workflow_id.step_ids.filtered(
                    lambda s, step=step: s.stage_id == stage and s.record_type == step.record_type
                )
                if not targets or step in targets:
                    continue
                leads_there = lambda t, targets=targets: t.to_step_id in targets
            transition = available[process].filtered(leads_there)[:1]
            if not transition:
                raise UserError(
                    self.env._(
                        '"%(lead)s" is in step "%(step)s" of its Sales Process: no '
                        'transition leads to stage "%(stage)s" from there. Available '
                        "now: %(names)s.",
                        lead=lead.display_name,
                        step=step.name,
                        stage=stage.name,
                        names=", ".join(available[process].mapped("name")) or self.env._("none"),
                    )
                )
            transitions[process] = transition
            moved |= lead
        moved.sales_process_id._run_with_suggestions(transitions)
        return moved

    def _sales_process_frozen_message(self):
        self.ensure_one()
        process = self.sales_process_id
        if process.current_lead_id == self:
            return self._sales_process_hint(
                ("reactivate", "reopen", "follow_up"),
                self.env._('"%(lead)s" is in step "%(step)s" of its Sales Process, where it cannot be changed.'),
            )
        return self.env._(
            '"%(lead)s" was left in step "%(step)s" by its Sales Process "%(process)s" '
            'and cannot be changed; the process now follows "%(current)s".',
            lead=self.display_name,
            step=self.sales_process_step_id.name,
            process=process.display_name,
            current=process.current_lead_id.display_name,
        )

    def _sales_process_hint(self, effects, message):
        """``message`` followed by the buttons of the record's process that do
        what was attempted."""
        self.ensure_one()
        process = self.sales_process_id
        text = message % {
            "lead": self.display_name,
            "step": self.sales_process_step_id.name,
        }
        if process.current_lead_id != self:
            return text
        available = process._available_transitions()[process]
        useful = available.filtered(lambda t: t.effect in effects)
        if useful:
            return (
                text
                + " "
                + self.env._(
                    "Use the %(buttons)s button.",
                    buttons=" / ".join(f'"{name}"' for name in useful.mapped("name")),
                )
            )
        return (
            text
            + " "
            + self.env._(
                "Available now: %(names)s.",
                names=", ".join(available.mapped("name")) or self.env._("none"),
            )
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_process(self):
        in_process = self.filtered("sales_process_id")
        if in_process and not in_engine():
            lead = in_process[0]
            raise UserError(
                self.env._(
                    '"%(lead)s" belongs to the Sales Process "%(process)s" and '
                    "cannot be deleted; a closed deal stays for reporting.",
                    lead=lead.display_name,
                    process=lead.sales_process_id.display_name,
                )
            )

    # ------------------------------------------------------------------
    # Odoo's own buttons on a record in a process run its transitions
    # ------------------------------------------------------------------

    def _sales_process_split(self):
        """(records in a process, the others); outside a transition only."""
        if in_engine():
            return self.browse(), self
        in_process = self.filtered("sales_process_id")
        return in_process, self - in_process

    def _sales_process_run_native(self, effect, values=None):
        """Run on each record's process its available transition of ``effect``
        (as Odoo's "Won" or "Lost" would), or refuse."""
        available = self.sales_process_id._available_transitions()
        transitions = {}
        for lead in self:
            process = lead.sales_process_id
            if process.current_lead_id != lead:
                raise UserError(lead._sales_process_frozen_message())
            transition = available[process].filtered(lambda t: t.effect == effect)[:1]
            if not transition:
                raise UserError(
                    lead._sales_process_hint(
                        (effect,),
                        self.env._(
                            '"%(lead)s" is in step "%(step)s" of its Sales Process, where this is not possible.'
                        ),
                    )
                )
            transitions[process] = transition
        self.sales_process_id._run_with_suggestions(transitions, values)

    def action_set_won(self):
        in_process, others = self._sales_process_split()
        in_process._sales_process_run_native("close_won")
        return super(CrmLead, others).action_set_won() if others else True

    def action_set_lost(self, **additional_values):
        in_process, others = self._sales_process_split()
        leads = in_process.filtered(lambda lead: lead.type == "lead")
        reason = self.env["crm.lost.reason"].browse(additional_values.get("lost_reason_id"))
        leads._sales_process_run_native("disqualify", {"reason": reason.name} if reason else {})
        (in_process - leads)._sales_process_run_native("close_lost", {"lost_reason_id": reason.id} if reason else {})
        return super(CrmLead, others).action_set_lost(**additional_values) if others else True

    # ------------------------------------------------------------------
    # Closed records stay as they were
    # ------------------------------------------------------------------

    def _sales_process_frozen(self):
        return self.filtered("sales_process_step_id.readonly")

    # Odoo copies a contact's email and phone onto all its leads when they
    # change: not onto records closed in a process, which stay as they were.
    def _compute_email_from(self):
        return super(CrmLead, self - self._sales_process_frozen())._compute_email_from()

    def _compute_phone(self):
        return super(CrmLead, self - self._sales_process_frozen())._compute_phone()

    def _compute_recurring_revenue_monthly(self):
        return super(CrmLead, self - self._sales_process_frozen())._compute_recurring_revenue_monthly()

    # ------------------------------------------------------------------
    # Lead scoring counts of closings, after the commit
    # ------------------------------------------------------------------

    def _pls_increment_frequencies(self, from_state=None, to_state=None):
        """A transition's closings are counted in Odoo's lead scoring after its
        commit, through crm.sales.process.scoring.queue (which says why)."""
        if not in_engine() or not self:
            return super()._pls_increment_frequencies(from_state, to_state)
        self.env["crm.sales.process.scoring.queue"]._enqueue(self, from_state, to_state)
        return None

    # ------------------------------------------------------------------
    # The chatter of a transition, in one go
    # ------------------------------------------------------------------
    #
    # Odoo posts the tracking message of each record changed (message_post,
    # or _message_log when the change has no subtype), and the creation
    # message of each record created, one by one: a search for the parent
    # message, the alias and reply-to, a message and its tracking values, the
    # followers to notify, for every record. A transition's records still go
    # through Odoo's tracking and creation, but their messages are queued and
    # created together, with the values message_post and _message_log give
    # them; each then goes through Odoo's own after-post hook and, where
    # followers are to be notified, Odoo's own notification.

    def _message_track(self, fields_iter, initial_values_dict):
        # the records of a transition (engine_writes.batched_chatter)
        ids = batched_chatter_ids().intersection(self.ids)
        if not ids:
            return super()._message_track(fields_iter, initial_values_dict)
        with batched_messages(ids) as queue:
            tracking = super()._message_track(fields_iter, initial_values_dict)
        self._sales_process_post_queue(queue)
        return tracking

    def message_post(self, **kwargs):
        queue = message_queue(self) if len(self) == 1 else None
        if (
            queue is None
            or not QUEUED_POST_KEYS.issuperset(kwargs)
            or kwargs.get("message_type", "notification") not in ("notification", "comment", "auto_comment")
            or not self._sales_process_queueable(kwargs)
        ):
            return super().message_post(**kwargs)
        queue.append(("post", self, kwargs))
        return self.env["mail.message"]

    def _message_log(self, **kwargs):
        queue = message_queue(self) if len(self) == 1 else None
        if queue is None or not QUEUED_LOG_KEYS.issuperset(kwargs) or not self._sales_process_queueable(kwargs):
            return super()._message_log(**kwargs)
        queue.append(("log", self, kwargs))
        return self.env["mail.message"]

    def _sales_process_queueable(self, kwargs):
        # tracking values to create (what _mail_track gives), by a user
        return not self.env.user._is_public() and all(
            len(command) == 3 and command[0] == 0 for command in kwargs.get("tracking_value_ids") or ()
        )

    @api.model
    def _sales_process_post_queue(self, queue):
        """Create the messages of ``queue`` (engine_writes.MessageQueue) in
        one go. A record with several messages has one per round, in order:
        the parent of its next message is the one before."""
        rounds = defaultdict(list)
        seen = defaultdict(int)
        for kind, record, kwargs in queue:
            rounds[seen[record.id]].append((kind, record, kwargs))
            seen[record.id] += 1
        for __, entries in sorted(rounds.items()):
            self._sales_process_post_round(entries)

    @api.model
    def _sales_process_post_round(self, entries):
        groups = defaultdict(list)
        for kind, record, kwargs in entries:
            options = tuple(sorted((k, v) for k, v in kwargs.items() if k not in ("body", "tracking_value_ids")))
            groups[kind, record.env, options].append((record, kwargs))
        posted = []
        tracking = []
        for (kind, env, options), items in groups.items():
            records = self.with_env(env).browse([record.id for record, __ in items])
            bodies = {record.id: kwargs.get("body", "") for record, kwargs in items}
            if kind == "log":
                messages = records._message_log_batch(bodies, **dict(options))
            else:
                messages, values_list = records._sales_process_message_create(bodies, **dict(options))
                posted += zip(records, messages, values_list, (kwargs for __, kwargs in items), strict=True)
            for message, (__, kwargs) in zip(messages, items, strict=True):
                tracking += [
                    dict(command[2], mail_message_id=message.id) for command in kwargs.get("tracking_value_ids") or ()
                ]
        # as mail.message.create does for each message, for all of them
        self.env["mail.tracking.value"].sudo().create(tracking)
        recipients = {}
        by_subtype = defaultdict(lambda: self.browse())
        for record, message, values, kwargs in posted:
            if "tracking_value_ids" in kwargs:
                values["tracking_value_ids"] = kwargs["tracking_value_ids"]  # as message_post gives them
            record._fallback_lang()._message_post_after_hook(message, values)
            by_subtype[values["message_type"], values["subtype_id"]] |= record
        for (message_type, subtype_id), records in by_subtype.items():
            recipients.update(self.env["mail.followers"]._get_recipient_data(records, message_type, subtype_id, []))
        # the authors of the parents of comments, which Odoo's out-of-office
        # check reads for each, read at once
        parents = [v["parent_id"] for __, __, v, __ in posted if v["message_type"] == "comment" and v["parent_id"]]
        self.env["mail.message"].sudo().browse(parents).author_id.mapped("active")
        for record, message, values, __ in posted:
            if recipients.get(record.id):
                record._fallback_lang()._notify_thread(message, values)
            else:
                # what _notify_thread does when nobody is to be notified
                record._fallback_lang()._notify_thread_with_out_of_office(message, [], msg_vals=values)

    def _sales_process_message_create(
        self, bodies, author_id=None, subtype_id=False, subtype_xmlid=None, message_type="notification"
    ):
        """The message message_post(body=bodies[id], ...) creates on each
        record of self, created in one go; return (messages, their values)."""
        self = self._fallback_lang()  # noqa: PLW0642 -- as message_post
        author_id, email_from = self._message_compute_author(author_id, None)
        if subtype_xmlid:
            subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid)
        if not subtype_id:
            subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        parents = self._sales_process_message_parents()
        alias_domains = self.sudo()._mail_get_alias_domains(default_company=self.env.company)
        companies = self._mail_get_companies(default=self.env.company)
        reply_to = self._notify_get_reply_to(default=email_from, author_id=author_id)
        values_list = []
        for record in self:
            values = {
                "email_add_signature": True,
                "author_id": author_id,
                "author_guest_id": False,
                "email_from": email_from,
                "model": self._name,
                "res_id": record.id,
                "body": escape(bodies[record.id]),
                "message_type": message_type,
                "parent_id": parents.get(record.id, False),
                "subject": False,
                "subtype_id": subtype_id,
                "partner_ids": [],
                "incoming_email_to": False,
                "incoming_email_cc": False,
                "outgoing_email_to": False,
                "record_alias_domain_id": alias_domains[record.id].id,
                "record_company_id": companies[record.id].id,
                "reply_to": reply_to[record.id],
            }
            values.update(record._process_attachments_for_post(None, [], values))
            values_list.append(values)
        messages = self._message_create(values_list)
        if (
            not self.env.context.get("mail_post_autofollow_author_skip")
            and message_type not in ("notification", "auto_comment")
            and subtype_id == self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        ):
            real_author = self._message_compute_real_author(author_id)
            if real_author and not real_author.partner_share:
                self._message_subscribe(partner_ids=real_author.ids)
        return messages, values_list

    def _sales_process_message_parents(self):
        """{record id: parent of its next message}, as message_post's
        _message_compute_parent_id finds it for each record (the latest
        comment or email among its 200 latest messages, else the latest), in
        one query for all."""
        if not self._mail_flat_thread or not self:
            return {}
        self.env["mail.message"].flush_model(["model", "res_id", "message_type", "date", "create_date"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (res_id) res_id, id
                     FROM (SELECT id, res_id, message_type, date, create_date,
                                  row_number() OVER (PARTITION BY res_id ORDER BY date DESC, id DESC) AS rank
                             FROM mail_message
                            WHERE model = %s AND res_id = ANY(%s) AND message_type != 'user_notification'
                          ) AS latest
                    WHERE rank <= 200
                 ORDER BY res_id, message_type IN ('comment', 'email') DESC,
                          COALESCE(date, create_date) DESC, id DESC""",
                self._name,
                self.ids,
            )
        )
        return dict(rows)

    # ------------------------------------------------------------------
    # Helpers of the engine
    # ------------------------------------------------------------------

    def _sales_process_check_startable(self, record_type, code):
        """Lock the records and refuse those a process cannot start from."""
        self.check_access("write")
        try:
            self.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "This record is being changed right now, by another user starting a "
                    "Sales Process on it or by an automated task (e.g. lead enrichment). "
                    "Reload it and try again."
                )
            ) from None
        problems = self._sales_process_start_problems(record_type)
        if problems:
            raise UserError(self.env._('"%(code)s" was refused: ', code=code) + "; ".join(problems.values()) + ".")

    def _sales_process_start_problems(self, record_type):
        """{record: why a process of ``record_type`` cannot start from it}."""
        problems = {}
        for lead in self:
            if lead.sales_process_id:
                problems[lead] = self.env._(
                    '"%(lead)s" already follows the Sales Process "%(process)s"',
                    lead=lead.display_name,
                    process=lead.sales_process_id.display_name,
                )
            elif lead.type != record_type and record_type == "lead":
                problems[lead] = self.env._(
                    '"%(lead)s" is already an opportunity: start from the opportunity instead',
                    lead=lead.display_name,
                )
            elif lead.type != record_type:
                problems[lead] = self.env._(
                    '"%(lead)s" is a lead, not an opportunity: start from the lead',
                    lead=lead.display_name,
                )
            elif lead.won_status != "pending" or not lead.active:
                problems[lead] = self.env._('"%(lead)s" is closed (won, lost or archived)', lead=lead.display_name)
        return problems

    def _sales_process_won_stages(self):
        """{lead: won stage} chosen as action_set_won chooses it, with one
        search for the whole batch instead of one per lead."""
        won_stages = self._stage_find(domain=[("is_won", "=", True)], limit=None)
        result = {}
        for lead in self:
            stages = (
                won_stages.filtered(lambda s, lead=lead: not s.team_ids or lead.team_id in s.team_ids) or won_stages
            )
            stage = next((s for s in stages if s.sequence > lead.stage_id.sequence), None)
            if not stage:
                stage = next(
                    (s for s in reversed(stages) if s.sequence <= lead.stage_id.sequence),
                    stages[:1],
                )
            result[lead] = stage
        return result

    def _sales_process_customer_name(self):
        """The customer as the record names it, for the messages about it."""
        self.ensure_one()
        name = self.partner_id.name or self.contact_name or self.partner_name
        return f'"{name}"' if name else self.env._("the customer")

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_start_sales_process(self):
        """Header button: start the process of this record's B2B channel."""
        leads = self.filtered(lambda lead: lead.type == "lead")
        opportunities = self - leads
        Process = self.env["crm.sales.process"]
        if leads:
            Process.start_from_lead(leads.ids)
        if opportunities:
            Process.start_from_opportunity(opportunities.ids)
        return True

    def action_start_sales_processes(self):
        """List action: start a process on each selected record that can
        start one, and say which were skipped and why."""
        processes, skipped = self.env["crm.sales.process"]._start_where_possible(self)
        if len(processes) == 1:
            message = self.env._("1 Sales Process started.")
        else:
            message = self.env._("%(count)s Sales Processes started.", count=len(processes))
        if skipped:
            lines = list(skipped.values())
            message += "\n" + self.env._("%(count)s skipped:", count=len(lines)) + "\n" + listed(self.env, lines)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Start Sales Process"),
                "message": message,
                "type": "warning" if skipped else "success",
                "sticky": bool(skipped),
                "className": "o_sales_process_start_result",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _sales_process_auto_start(self, before=None):
        """Start the process of the records that are new in a channel that
        starts one for every new record of their type (``before``: {record:
        (team id, type)} before a write; a record already there is not new).
        A record a process cannot start from stays as it is, and its chatter
        says why: a lead is never lost because its process cannot start."""
        rules = self.env["crm.team"]._sales_process_auto_start()
        if not rules or in_engine():
            return
        leads = self.filtered(
            lambda lead: (
                (lead.team_id.id, lead.type) in rules
                and not lead.sales_process_id
                and lead.active
                and lead.won_status == "pending"
                and (before is None or before[lead] != (lead.team_id.id, lead.type))
            )
        )
        if not leads:
            return
        Process = self.env["crm.sales.process"]
        if before is None:
            # started with its record, the first step is one of the values the
            # record is created with, which Odoo's chatter does not track
            # either (its creation message says it is new; the process's log
            # has the start): one tracking message per record less on imports
            Process = Process.with_context(mail_notrack=True)
        __, skipped = Process._start_where_possible(leads, auto=True)
        if skipped:
            self.browse([lead.id for lead in skipped])._message_log_batch(
                bodies={
                    lead.id: self.env._("No Sales Process was started: %(reason)s.", reason=reason)
                    for lead, reason in skipped.items()
                }
            )

    @api.model
    def _get_view_cache_key(self, view_id=None, view_type="form", **options):
        # the transition buttons depend on the workflows the companies can read
        key = super()._get_view_cache_key(view_id, view_type, **options)
        return key + (tuple(self.env.companies.ids),)

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form" and arch.find(".//field[@name='sales_process_readonly']") is not None:
            self.env["crm.sales.process.transition"]._inject_header_buttons(arch, "sales_process_transition_ids")
            self._sales_process_lock_form(arch)
        return arch, view

    @api.model
    def _sales_process_lock_form(self, arch):
        """Make every field of the sheet read-only in read-only steps: Odoo
        forms have no per-record read-only switch, so each field gets it."""
        for node in arch.iterfind(".//sheet//field"):
            if any(parent.tag == "field" for parent in node.iterancestors()):
                continue  # a field of an embedded list follows its parent field
            readonly = node.get("readonly")
            if readonly in ("1", "True", "true"):
                continue
            node.set(
                "readonly",
                f"({readonly}) or sales_process_readonly" if readonly else "sales_process_readonly",
            )

    @api.readonly
    def action_open_sales_process(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.sales.process",
            "res_id": self.sales_process_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_sales_process_transition(self):
        """Header button of a transition on the lead form."""
        self.ensure_one()
        if self.sales_process_id.current_lead_id != self:
            raise UserError(self._sales_process_frozen_message())
        return self.sales_process_id.action_open_transition()
