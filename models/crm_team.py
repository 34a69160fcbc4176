# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    channel_type = fields.Selection(
        [("b2b", "B2B"), ("b2c", "B2C")],
        string="Channel Type",
        required=True,
        default="b2c",
        help="Only B2B channels run Sales Processes.",
    )
    sales_process_workflow_id = fields.Many2one(
        "crm.sales.process.workflow",
        string="Sales Process Workflow",
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
