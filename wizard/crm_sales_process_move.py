# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.engine_writes import engine_writes


class CrmSalesProcessMove(models.TransientModel):
    """Move the processes of one workflow onto another, step by step. The
    form is the dry run: how many processes each step moves, and which
    would be stranded; the Move button does it and logs each move."""

    _name = "crm.sales.process.move"
    _description = "Move Sales Processes to another Workflow"

    source_workflow_id = fields.Many2one(
        "crm.sales.process.workflow", string="From Workflow", required=True, ondelete="cascade"
    )
    target_workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        string="To Workflow",
        required=True,
        ondelete="cascade",
        domain="[('id', '!=', source_workflow_id)]",
    )
    include_closed = fields.Boolean("Closed processes too", help="Also move the processes that sit in a final step.")
    line_ids = fields.One2many(
        "crm.sales.process.move.line",
        "move_id",
        string="Step Mapping",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    move_count = fields.Integer("Processes to Move", compute="_compute_counts")
    stranded_count = fields.Integer("Processes Stranded", compute="_compute_counts")

    @api.depends("source_workflow_id", "target_workflow_id")
    def _compute_line_ids(self):
        """One line per step of the source workflow, mapped by default to the
        target step of the same code, else of the same name."""
        for move in self:
            commands = [fields.Command.clear()]
            targets = move.target_workflow_id.step_ids
            for step in move.source_workflow_id.step_ids:
                target = (
                    targets.filtered(lambda s, step=step: s.code == step.code)[:1]
                    or targets.filtered(lambda s, step=step: s.name == step.name)[:1]
                )
                commands.append(fields.Command.create({"source_step_id": step.id, "target_step_id": target.id}))
            move.line_ids = commands

    @api.depends("line_ids.process_count", "line_ids.problem")
    def _compute_counts(self):
        for move in self:
            move.move_count = sum(move.line_ids.filtered(lambda line: not line.problem).mapped("process_count"))
            move.stranded_count = sum(move.line_ids.filtered("problem").mapped("process_count"))

    def _processes(self, steps):
        domain = [("workflow_id", "=", self.source_workflow_id.id), ("step_id", "in", steps.ids)]
        if not self.include_closed:
            domain.append(("is_closed", "=", False))
        return self.env["crm.sales.process"].search(domain)

    def action_move(self):
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.process_count and not line.problem)
        if not lines:
            raise UserError(self.env._("No process can be moved with this mapping."))
        self.target_workflow_id._check_usable()
        processes = self._processes(lines.source_step_id)
        processes.check_access("write")
        processes._lock()
        step_map = {line.source_step_id: line.target_step_id for line in self.line_ids if not line.problem}
        now = fields.Datetime.now()
        log_vals = []
        moved = processes.grouped("step_id")
        with engine_writes():
            for source_step, processes_there in moved.items():
                target = step_map[source_step]
                processes_there.write({"workflow_id": self.target_workflow_id.id, "step_id": target.id})
                for process in processes_there:
                    log_vals.append(
                        {
                            "process_id": process.id,
                            "from_step_id": source_step.id,
                            "to_step_id": target.id,
                            "user_id": self.env.uid,
                            "date": now,
                            "values": {},
                            "lead_id": process.current_lead_id.id,
                            "company_id": process.company_id.id,
                            "note": self.env._(
                                'Moved from workflow "%(origin)s" to "%(target)s"',
                                origin=self.source_workflow_id.name,
                                target=self.target_workflow_id.name,
                            ),
                        }
                    )
            # every record of the moved processes takes the mapped step, and the
            # current ones the pipeline stage of their new step
            records = processes.lead_ids.with_context(active_test=False)
            for old_step, records_there in records.grouped("sales_process_step_id").items():
                if step_map.get(old_step):
                    records_there.write({"sales_process_step_id": step_map[old_step].id})
            for step, current in processes.current_lead_id.grouped("sales_process_step_id").items():
                if step.stage_id and step.outcome == "open" and step.record_type == "opportunity":
                    current.filtered(lambda r, s=step: r.stage_id != s.stage_id).write({"stage_id": step.stage_id.id})
        self.env["crm.sales.process.log"].sudo().create(log_vals)
        # a process entering a step with an activity plan gets it, unless it
        # got the same plan in the step it leaves (its activities are there)
        entered = {}
        stale = self.env["crm.sales.process"]
        for source_step, processes_there in moved.items():
            plan = step_map[source_step].activity_plan_id
            for process in processes_there:
                if plan and process.activity_plan_id != plan and process.current_lead_id:
                    entered[process] = (step_map[source_step], process.current_lead_id)
                elif process.activity_plan_id != plan:
                    stale |= process
        with engine_writes():
            stale.write({"activity_plan_id": False})
        if entered:
            processes._launch_activity_plans(entered)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s Sales Processes moved to %(workflow)s.",
                    count=len(processes),
                    workflow=self.target_workflow_id.name,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
