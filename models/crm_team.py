# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmTeam(models.Model):
    _inherit = "crm.team"

    channel_type = fields.Selection(
        [("b2b", "B2B"), ("b2c", "B2C")],
        required=True,
        default="b2c",
        help="Only B2B channels run Sales Processes.",
    )
    sales_process_workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        compute="_compute_sales_process_workflow_id",
        store=True,
        readonly=False,
        ondelete="restrict",
        help="The workflow of the Sales Processes this channel starts from now "
        "on; running processes keep the workflow they started with.",
    )

    @api.depends("channel_type")
    def _compute_sales_process_workflow_id(self):
        default = self.env["crm.sales.process.workflow"]._get_default()
        for team in self:
            if team.channel_type == "b2b" and not team.sales_process_workflow_id:
                team.sales_process_workflow_id = default

    @api.constrains("channel_type", "sales_process_workflow_id")
    def _check_sales_process_workflow(self):
        for team in self.filtered(lambda t: t.channel_type == "b2b"):
            workflow = team.sales_process_workflow_id
            if not workflow:
                raise ValidationError(
                    self.env._('The B2B channel "%(team)s" needs a Sales Process workflow.', team=team.name)
                )
            if not workflow.active:
                raise ValidationError(self.env._('The workflow "%(workflow)s" is archived.', workflow=workflow.name))
            workflow._check_usable()

    @api.constrains("channel_type")
    def _check_channel_type_of_running_processes(self):
        """A channel stays B2B while Sales Processes run in it: switched to
        B2C, it would hold open deals that no B2C channel may run (moving a
        deal of an open process to a B2C channel is refused the same way)."""
        not_b2b = self.filtered(lambda team: team.channel_type != "b2b")
        if not not_b2b:
            return
        # every process counts, those the user's record rules hide included
        running = (
            self.env["crm.sales.process"]
            .sudo()
            ._read_group([("team_id", "in", not_b2b.ids), ("is_closed", "=", False)], ["team_id"], ["__count"])
        )
        if running:
            team, count = running[0]
            raise ValidationError(
                self.env._(
                    'The sales channel "%(team)s" cannot become B2C: %(count)s open Sales '
                    "Process(es) run in it. Move their leads and opportunities to another B2B "
                    "channel or close the processes first, or keep this channel B2B and create "
                    "a B2C channel for the deals that need no process.",
                    team=team.name,
                    count=count,
                )
            )
