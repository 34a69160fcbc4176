# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
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
        transitions = {}
        for lead in leads:
            team = self.env["crm.team"].browse(clean.get("team_id")) or lead.team_id
            start = default_start
            if team.channel_type == "b2b" and team.sales_process_workflow_id:
                start = team.sales_process_workflow_id._start_transition(record_type)
                if not start:
                    raise UserError(
                        self.env._(
                            'The workflow "%(workflow)s" of channel "%(team)s" has no start transition for a %(type)s.',
                            workflow=team.sales_process_workflow_id.name,
                            team=team.name,
                            type=record_type,
                        )
                    )
            transitions[lead] = start
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
                        }
                        for lead in leads
                    ]
                )
            processes._run(
                {process: transitions[lead] for process, lead in zip(processes, leads, strict=False)},
                values,
            )
        return processes.id if single else processes.ids
