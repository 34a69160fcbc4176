# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models


class CrmSalesProcessMoveLine(models.TransientModel):
    _name = "crm.sales.process.move.line"
    _description = "Step Mapping of a Sales Process Move"

    move_id = fields.Many2one("crm.sales.process.move", required=True, ondelete="cascade")
    source_step_id = fields.Many2one("crm.sales.process.step", string="From Step", required=True)
    target_step_id = fields.Many2one(
        "crm.sales.process.step",
        string="To Step",
        domain="[('workflow_id', '=', parent.target_workflow_id)]",
    )
    process_count = fields.Integer("Processes", compute="_compute_process_count")
    problem = fields.Char(compute="_compute_problem", string="Stranded Because")

    @api.depends("source_step_id", "move_id.include_closed", "move_id.source_workflow_id")
    def _compute_process_count(self):
        for line in self:
            line.process_count = len(line.move_id._processes(line.source_step_id)) if line.source_step_id else 0

    @api.depends("source_step_id", "target_step_id")
    def _compute_problem(self):
        """A process can only go to a step that holds the same kind of
        record with the same outcome, so that it still agrees with its
        records after the move."""
        for line in self:
            source, target = line.source_step_id, line.target_step_id
            if not target:
                line.problem = self.env._("no step mapped")
            elif (source.record_type, source.outcome) != (target.record_type, target.outcome):
                line.problem = self.env._(
                    '"%(target)s" holds %(target_kind)s, not %(source_kind)s',
                    target=target.name,
                    target_kind=f"{target.outcome} {target.record_type}s",
                    source_kind=f"{source.outcome} {source.record_type}s",
                )
            else:
                line.problem = False
