# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import datetime
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import escape_psql, plaintext2html
from odoo.tools.mail import parse_contact_from_email

from .engine_writes import batched_messages

# What reopen gives the new opportunity (the closed one stays as it was);
# Odoo's side of the chatter test and of the benchmark copies with the same.
REOPEN_VALUES = {
    "active": True,
    "lost_reason_id": False,
    "expected_revenue": 0,
    "budget_amount": 0,
    "customer_need": False,
    "proposed_solution": False,
}


class CrmSalesProcessEffects(models.AbstractModel):
    """The built-in effects of the transitions, inherited by crm.sales.process.

    ``_effect_<effect>(transition, plans)`` applies one effect to a batch of
    processes (self) and returns {process: record} for the records it
    created; crm.sales.process._run calls them, between the checks and the
    log, and nothing else does."""

    _name = "crm.sales.process.effects"
    _description = "Sales Process: Transition Effects"

    def _effect_start(self, transition, plans):
        dates = defaultdict(lambda: self.env["crm.sales.process"])
        owners = defaultdict(lambda: self.env["crm.lead"])
        for process in self:
            vals = plans[process]["values"]
            lead = plans[process]["record"]
            dates[vals["date_start"]] |= process
            # the record keeps its channel and salesperson unless the call
            # gives others (the defaults are the record's own)
            team_id, user_id = vals["team_id"], vals["user_id"] or False
            if lead.team_id.id != team_id or lead.user_id.id != user_id:
                owners[team_id, user_id] |= lead
        for date_start, processes in dates.items():
            processes.sudo().write({"date_start": date_start})
        for (team_id, user_id), leads in owners.items():
            leads.write({"team_id": team_id, "user_id": user_id})

    def _effect_qualify(self, transition, plans):
        companies = self._qualify_companies(plans)
        contacts = self._qualify_contacts(plans, companies)
        for process in self:
            vals = plans[process]["values"]
            lead = plans[process]["record"]
            customer = contacts[process]
            update = lead._convert_opportunity_data(customer)
            # Odoo recomputes the team of a lead whose type changes (to one the
            # salesperson belongs to): the opportunity stays in its B2B channel
            update["team_id"] = lead.team_id.id
            update["name"] = vals["opportunity_name"]
            if vals.get("notes"):
                update["description"] = vals["notes"]
            lead.write(update)

    def _qualify_companies(self, plans):
        """{process: company partner}: the given one, else an existing company
        of that name (case-insensitive), else a new one; one search and one
        create for the whole batch."""
        Partner = self.env["res.partner"]
        result = {}
        wanted = {}
        for process in self:
            vals = plans[process]["values"]
            if vals.get("partner_id"):
                result[process] = Partner.browse(vals["partner_id"])
            else:
                wanted.setdefault(vals["company_name"].lower(), []).append(process)
        if not wanted:
            return result
        names = list(wanted)
        domain = [("is_company", "=", True)]
        domain += ["|"] * (len(names) - 1)
        domain += [("name", "=ilike", escape_psql(name)) for name in names]
        found = {}
        for partner in Partner.search(domain, order="id"):
            found.setdefault(partner.name.lower(), partner)
        to_create = [name for name in names if name not in found]
        if to_create:
            vals_list = []
            for name in to_create:
                first = wanted[name][0]
                lead = plans[first]["record"]
                vals_list.append(lead._prepare_customer_values(plans[first]["values"]["company_name"], is_company=True))
            for name, partner in zip(to_create, Partner.create(vals_list), strict=False):
                found[name] = partner
        for name, processes in wanted.items():
            for process in processes:
                result[process] = found[name]
        return result

    def _qualify_contacts(self, plans, companies):
        """{process: customer of the opportunity}: the lead's own contact when
        it has one (attached to the company if it had none), else a contact
        created from the lead's contact name under the company (Odoo's
        _create_customer, batched), else the company itself."""
        Partner = self.env["res.partner"]
        result = {}
        to_create = []
        to_attach = defaultdict(lambda: Partner)
        for process in self:
            lead = plans[process]["record"]
            company = companies[process]
            partner = lead.partner_id
            if partner:
                if partner.commercial_partner_id == company:
                    result[process] = partner
                elif not partner.is_company and not partner.parent_id:
                    to_attach[company] |= partner
                    result[process] = partner
                else:
                    raise UserError(
                        process._refusal(
                            plans[process]["transition"],
                            self.env._(
                                'the lead\'s contact "%(contact)s" belongs to "%(other)s", not to "%(company)s"',
                                contact=partner.display_name,
                                other=partner.commercial_partner_id.name,
                                company=company.name,
                            ),
                        )
                    )
                continue
            contact_name = lead.contact_name or (
                parse_contact_from_email(lead.email_from)[0] if lead.email_from else False
            )
            if contact_name:
                to_create.append(
                    (process, lead._prepare_customer_values(contact_name, is_company=False, parent_id=company.id))
                )
            else:
                result[process] = company
        for company, partners in to_attach.items():
            partners.write({"parent_id": company.id})
        if to_create:
            created = Partner.create([vals for __, vals in to_create])
            for (process, __), partner in zip(to_create, created, strict=False):
                result[process] = partner
        return result

    def _effect_disqualify(self, transition, plans):
        leads = self._plan_records(plans)
        reason = plans[self[:1]]["values"].get("reason")
        if reason:
            # the same place Odoo's own "Lost" dialog puts its closing note
            leads._track_set_log_message(
                Markup('<div style="margin-bottom: 4px;"><p>%s:</p>%s<br /></div>')
                % (self.env._("Disqualified"), plaintext2html(reason))
            )
        disqualified = self.env.ref("crm_sales_process.lost_reason_disqualified", raise_if_not_found=False)
        leads.action_set_lost(lost_reason_id=disqualified.id if disqualified else False)

    def _effect_follow_up(self, transition, plans):
        with batched_messages() as queue:
            for process in self:
                plans[process]["record"].message_post(
                    body=plaintext2html(plans[process]["values"]["note"]),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
        self.env["crm.lead"]._sales_process_post_queue(queue)

    def _effect_reactivate(self, transition, plans):
        return self._copy_records(plans, {"active": True, "lost_reason_id": False})

    def _effect_develop(self, transition, plans):
        groups = defaultdict(lambda: self.env["crm.lead"])
        for process in self:
            vals = plans[process]["values"]
            lead = plans[process]["record"]
            customer = self.env["res.partner"].browse(vals["partner_id"])
            # the given contact, else the record's own one when it belongs to
            # that customer, else the customer itself
            contact = self.env["res.partner"].browse(vals.get("contact_id"))
            if not contact and lead.partner_id.commercial_partner_id == customer:
                contact = lead.partner_id
            update = {"partner_id": (contact or customer).id}
            for key in ("budget_amount", "probability", "customer_need", "proposed_solution"):
                if key in vals:
                    update[key] = False if vals[key] is None else vals[key]
            groups[tuple(sorted(update.items()))] |= lead
        for update, leads in groups.items():
            leads.write(dict(update))

    def _effect_close_won(self, transition, plans):
        leads = self._plan_records(plans)
        won_stage = transition.to_step_id.stage_id
        if won_stage.is_won:
            stage_by_lead = dict.fromkeys(leads, won_stage)
        else:
            stage_by_lead = leads._sales_process_won_stages()
        groups = defaultdict(lambda: self.env["crm.lead"])
        for process in self:
            lead = plans[process]["record"]
            vals = plans[process]["values"]
            groups[stage_by_lead[lead], vals["close_revenue"], vals["close_date"]] |= lead
        leads.action_unarchive()
        today = fields.Date.to_string(fields.Date.context_today(self))
        for (stage, revenue, close_date), group in groups.items():
            # Odoo's won semantic: a won stage and probability 100 (crm.lead.write
            # does the rest, date_closed "now" included); another close date
            # must come after it
            group.write({"stage_id": stage.id, "probability": 100, "expected_revenue": revenue})
            if close_date != today:
                group.write({"date_closed": self._close_datetime(close_date)})

    def _effect_close_lost(self, transition, plans):
        groups = defaultdict(lambda: self.env["crm.lead"])
        for process in self:
            vals = plans[process]["values"]
            groups[vals["lost_reason_id"], vals["close_date"]] |= plans[process]["record"]
        for (reason_id, close_date), leads in groups.items():
            leads.action_set_lost(
                lost_reason_id=reason_id,
                expected_revenue=0,
                date_closed=self._close_datetime(close_date),
            )

    def _effect_reopen(self, transition, plans):
        return self._copy_records(plans, REOPEN_VALUES)

    def _effect_none(self, transition, plans):
        return None

    def _copy_records(self, plans, default):
        """Create the new record each process moves onto, linked to the one it
        comes from; the old record is left exactly as it was."""
        originals = self._plan_records(plans)
        vals_list = originals.with_context(active_test=False).copy_data(default)
        to_step = plans[self[:1]]["transition"].to_step_id
        for vals, process in zip(vals_list, self, strict=False):
            # linked at creation: its creation message already shows the step
            vals.update(
                sales_process_origin_id=plans[process]["record"].id,
                sales_process_id=process.id,
                sales_process_step_id=to_step.id,
            )
            if to_step.stage_id and to_step.record_type == "opportunity":
                vals["stage_id"] = to_step.stage_id.id
        # the default stage Odoo would search for each new record, once per team
        stages = {}
        for vals in vals_list:
            if not vals.get("stage_id"):
                team = vals.get("team_id") or False
                if team not in stages:
                    stages[team] = self.env["crm.lead"]._stage_find(team_id=team, domain=[("fold", "=", False)]).id
                vals["stage_id"] = stages[team]
        # their creation messages in one go
        with batched_messages() as queue:
            copies = self.env["crm.lead"].create(vals_list)
        self.env["crm.lead"]._sales_process_post_queue(queue)
        by_original = dict(zip(originals, copies, strict=False))
        return {process: by_original[plans[process]["record"]] for process in self}

    def _plan_records(self, plans):
        """The records the processes of self act on, in the order of self."""
        return self.env["crm.lead"].union(*(plans[process]["record"] for process in self))

    @api.model
    def _close_datetime(self, close_date):
        """A close date as Odoo's date_closed: now when it is today, else noon
        UTC, which shows the same day in every timezone from UTC-11 to UTC+11."""
        day = fields.Date.to_date(close_date)
        if day == fields.Date.context_today(self):
            return fields.Datetime.now()
        return datetime.datetime.combine(day, datetime.time(12, 0))
