# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmSalesProcessPlanLaunch(models.TransientModel):
    """Launch a step's activity plan on the processes already in it (those
    that enter it from now on get it by themselves). The form is the dry
    run: it says how many records get which activities before anything is
    scheduled."""

    _name = "crm.sales.process.plan.launch"
    _description = "Launch a Step's Activity Plan on the Processes in it"

    step_id = fields.Many2one("crm.sales.process.step", required=True, readonly=True, ondelete="cascade")
    plan_id = fields.Many2one(related="step_id.activity_plan_id")
    process_count = fields.Integer("Processes in the Step", compute="_compute_summary")
    summary = fields.Text(compute="_compute_summary")

    @api.depends("step_id", "plan_id")
    def _compute_summary(self):
        for launch in self:
            launch.process_count = self.env["crm.sales.process"].search_count(launch._domain())
            plan = launch.plan_id
            if not plan:
                launch.summary = self.env._('Step "%(step)s" has no activity plan.', step=launch.step_id.name)
            elif not launch.process_count:
                launch.summary = self.env._(
                    'Every Sales Process in step "%(step)s" has had the plan "%(plan)s" already '
                    "(or none is there): there is nothing to launch it on.",
                    step=launch.step_id.name,
                    plan=plan.name,
                )
            else:
                launch.summary = self.env._(
                    'The plan "%(plan)s" (%(activities)s) will be launched on the records of the %(count)s '
                    'Sales Processes in step "%(step)s" that have not had it, its deadlines counted from '
                    "today, each activity assigned to the process owner unless the plan names someone. "
                    "Those that enter the step from now on get it by themselves.",
                    plan=plan.name,
                    activities=", ".join(plan.template_ids.mapped(lambda t: t.summary or t.activity_type_id.name)),
                    count=launch.process_count,
                    step=launch.step_id.name,
                )

    def _domain(self):
        """The processes in the step that have not had its plan for this stay."""
        self.ensure_one()
        return [
            ("step_id", "=", self.step_id.id),
            ("current_lead_id", "!=", False),
            ("activity_plan_id", "!=", self.plan_id.id),
        ]

    def action_launch(self):
        self.ensure_one()
        if not self.plan_id:
            raise UserError(self.env._('Step "%(step)s" has no activity plan.', step=self.step_id.name))
        processes = self.env["crm.sales.process"].search(self._domain())
        if not processes:
            raise UserError(
                self.env._('No Sales Process in step "%(step)s" is without the plan.', step=self.step_id.name)
            )
        processes.check_access("write")
        processes._launch_activity_plans({process: (self.step_id, process.current_lead_id) for process in processes})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    'The plan "%(plan)s" was launched on %(count)s records.',
                    plan=self.plan_id.name,
                    count=len(processes),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
