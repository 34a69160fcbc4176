# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmSalesProcessUi(models.AbstractModel):
    """The buttons, kanban drags and RPC writes of a step that run a
    transition, and the values the transition form proposes; inherited by
    crm.sales.process."""

    _name = "crm.sales.process.ui"
    _description = "Sales Process: Buttons and Drags"

    def _move_to_step(self, step):
        """An RPC or list write of step_id: run the transition that leads
        there, when it can run with the values the record already holds."""
        moving = self.filtered(lambda p: p.step_id != step)
        available = moving._available_transitions()
        moving._run_with_suggestions({p: p._transition_to(step, available) for p in moving})

    def _transition_to(self, step, available=None):
        """The transition available now that leads from the step of the
        process to ``step``, or a refusal. ``available``: the result of
        _available_transitions() for a batch that includes the process."""
        self.ensure_one()
        available = (available or self._available_transitions())[self]
        transition = available.filtered(lambda t: t.to_step_id == step)[:1]
        if not transition:
            raise UserError(
                self.env._(
                    'No transition leads "%(process)s" from "%(from)s" to "%(to)s". Available now: %(names)s.',
                    process=self.display_name,
                    **{"from": self.step_id.name},
                    to=step.name,
                    names=", ".join(available.mapped("name")) or self.env._("none"),
                )
            )
        return transition

    def action_move_to_step(self, step_id):
        """A kanban drag to another step: run the transition that leads
        there when it takes no values, else open its form."""
        self.ensure_one()
        step = self.env["crm.sales.process.step"].browse(step_id)
        if step == self.step_id:
            return True
        transition = self._transition_to(step)
        return self.env["crm.sales.process.transition.wizard"]._open_for(self, transition, ask_confirmation=True)

    def _run_with_suggestions(self, transitions, values=None):
        """Run on each process its transition (``transitions``: {process:
        transition}) with the values its record already holds (what the
        transition form would propose) updated by ``values``; when they are
        not enough, refuse and name the button that asks for the rest. The
        processes whose transition and values agree run in one batch."""
        batches = defaultdict(lambda: self.env["crm.sales.process"])
        for process in self:
            transition = transitions[process]
            vals = process._suggested_values(transition)
            vals.update(values or {})
            record = process.current_lead_id
            probe = process._clean_values(transition, vals)
            process._complete_values(transition, probe, record)
            problems = process._check_values(transition, probe, record)
            if problems:
                raise UserError(
                    process._refusal(transition, "; ".join(problems))
                    + "\n"
                    + self.env._('Use the "%(button)s" button to enter them.', button=transition.name)
                )
            batches[transition, tuple(sorted(vals.items()))] |= process
        result = True
        for (transition, vals), processes in batches.items():
            result = processes.run_transition(transition.code, dict(vals))
        return result

    def _suggested_values(self, transition):
        """What the transition form proposes for this process."""
        self.ensure_one()
        lead = self.current_lead_id
        effect = transition.effect
        today = fields.Date.to_string(fields.Date.context_today(self))
        if effect == "qualify":
            vals = {"notes": lead.description}
            self._complete_values(transition, vals, lead)
        elif effect == "develop":
            vals = {
                "partner_id": lead.partner_id.commercial_partner_id.id,
                "contact_id": lead.partner_id.id if lead.partner_id and not lead.partner_id.is_company else False,
                "budget_amount": lead.budget_amount,
                "probability": lead.probability,
                "customer_need": lead.customer_need,
                "proposed_solution": lead.proposed_solution,
            }
        elif effect == "close_won":
            vals = {"close_revenue": lead.expected_revenue, "close_date": today}
        elif effect == "close_lost":
            vals = {"lost_reason_id": lead.lost_reason_id.id, "close_date": today}
        else:
            vals = {}
        spec = transition._value_spec()
        return {k: v for k, v in vals.items() if k in spec and v not in (False, None, "")}

    def action_open_transition(self):
        """Button of a transition: open its form, or run it when it takes
        no values and asks no confirmation."""
        transition = (
            self.env["crm.sales.process.transition"]
            .browse(self.env.context.get("sales_process_transition_id"))
            .exists()
        )
        if not transition:
            raise UserError(self.env._("This transition no longer exists; reload the page."))
        return self.env["crm.sales.process.transition.wizard"]._open_for(self, transition)

    def action_sales_process_transition(self):
        """Header button of a transition (see _get_view)."""
        return self.action_open_transition()

    @api.model
    def _get_view_cache_key(self, view_id=None, view_type="form", **options):
        # the transition buttons depend on the workflows the companies can read
        key = super()._get_view_cache_key(view_id, view_type, **options)
        return key + (tuple(self.env.companies.ids),)

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            self.env["crm.sales.process.transition"]._inject_header_buttons(arch, "available_transition_ids")
        return arch, view

    @api.readonly
    def action_open_current_lead(self):
        self.ensure_one()
        return self.current_lead_id._get_form_action()
