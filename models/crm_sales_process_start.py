# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError

from .engine_writes import engine_writes


class CrmSalesProcessStart(models.AbstractModel):
    """Starting processes on leads and opportunities (start_from_lead and
    start_from_opportunity), inherited by crm.sales.process: the processes
    are created stepless, then their start transition runs through _run."""

    _name = "crm.sales.process.start"
    _description = "Sales Process: Start"

    @api.model
    def _start(self, record_ids, record_type, values):
        code = "start_from_lead" if record_type == "lead" else "start_from_opportunity"
        values = self._check_call(code, values)
        single = not isinstance(record_ids, (list, tuple))
        ids = [record_ids] if single else list(record_ids)
        if not ids or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise UserError(
                self.env._(
                    '"%(code)s" takes the id of a %(type)s, not %(value)r.',
                    code=code,
                    type=record_type,
                    value=record_ids,
                )
            )
        workflow = self.env["crm.sales.process.workflow"]._get_default()
        default_start = workflow and workflow._start_transition(record_type)
        if not default_start:
            raise UserError(
                self.env._(
                    "No active Sales Process workflow can start from a %(type)s.",
                    type=record_type,
                )
            )
        # every start transition takes the same values: check their types first
        clean = self._clean_values(default_start, values)
        leads = self.env["crm.lead"].with_context(active_test=False).browse(ids)
        missing = leads - leads.exists()
        if missing:
            raise UserError(
                self.env._(
                    '"%(code)s": there is no lead or opportunity with id %(ids)s.',
                    code=code,
                    ids=", ".join(map(str, missing.ids)),
                )
            )
        leads._sales_process_check_startable(record_type, code)
        self.check_access("create")
        transitions, problems = self._start_transitions(leads, record_type, default_start, clean.get("team_id"))
        if problems:
            raise UserError(next(iter(problems.values())))
        # Processes are created stepless, then the start transition runs through
        # the same engine as every other one: checks, effect, log.
        with self.env.cr.savepoint():
            with engine_writes():
                processes = self.create(
                    [
                        {
                            "name": lead.name,
                            "workflow_id": transitions[lead].workflow_id.id,
                            "lead_id": lead.id if record_type == "lead" else False,
                            "opportunity_id": lead.id if record_type == "opportunity" else False,
                            # the record it starts from (Deal Journeys: First Record)
                            "first_lead_id": lead.id,
                        }
                        for lead in leads
                    ]
                )
            processes._run(
                {process: transitions[lead] for process, lead in zip(processes, leads, strict=False)},
                values,
            )
        return processes.id if single else processes.ids

    @api.model
    def _start_transitions(self, leads, record_type, default_start, team_id=None):
        """({lead: the start transition of its process}, {lead: why it has
        none}): the start of the workflow of its B2B channel (``team_id``
        when given, else its own), else the default workflow's."""
        transitions, problems = {}, {}
        for lead in leads:
            team = self.env["crm.team"].browse(team_id) or lead.team_id
            start = default_start
            if team.channel_type == "b2b" and team.sales_process_workflow_id:
                start = team.sales_process_workflow_id._start_transition(record_type)
                if not start:
                    problems[lead] = self.env._(
                        'The workflow "%(workflow)s" of channel "%(team)s" has no start transition for a %(type)s.',
                        workflow=team.sales_process_workflow_id.name,
                        team=team.name,
                        type=record_type,
                    )
                    continue
            transitions[lead] = start
        return transitions, problems

    @api.model
    def _start_where_possible(self, leads, auto=False):
        """Start a process on each of ``leads`` that can start one, in one
        batch per record type; return (the processes, {lead: why it was
        skipped}). The start's own checks find who is skipped beforehand, so
        that the others start in batch and nothing is refused half-way.

        ``auto``: a process that starts by itself (a new record in a channel
        that starts one for each) leaves an unassigned record unassigned, as
        Odoo's mail gateway does, for the channel's assignment to give it a
        salesperson; a start asked by a user gives it to that user."""
        skipped = {}
        processes = self.browse()
        workflow = self.env["crm.sales.process.workflow"]._get_default()
        for record_type, group in leads.grouped("type").items():
            skipped.update(group._sales_process_start_problems(record_type))
            group = group.filtered(lambda lead: lead not in skipped)
            default_start = workflow and workflow._start_transition(record_type)
            transitions, problems = self._start_transitions(group, record_type, default_start)
            skipped.update(problems)
            batches = defaultdict(lambda: self.env["crm.lead"])
            probe = self.new({})  # the value checks of a process not created yet
            for lead, transition in transitions.items():
                values = {"user_id": False} if auto and not lead.user_id else {}
                vals = self._clean_values(transition, values)
                probe._complete_values(transition, vals, lead)
                problems = probe._check_values(transition, vals, lead)
                if problems:
                    skipped[lead] = self.env._(
                        '"%(lead)s": %(problems)s', lead=lead.display_name, problems="; ".join(problems)
                    )
                else:
                    batches[bool(values)] |= lead
            for unassigned, batch in batches.items():
                ids = self._start(batch.ids, record_type, {"user_id": False} if unassigned else {})
                processes |= self.browse(ids)
        return processes, skipped
