# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

# The fields that decide which new records of a channel start a process.
AUTO_START_FIELDS = {
    "channel_type",
    "active",
    "sales_process_auto_start_lead",
    "sales_process_auto_start_opportunity",
}


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

    sales_process_auto_start_lead = fields.Boolean(
        "Start for Every New Lead",
        help="Start a Sales Process on every new lead of this B2B channel, however it "
        "comes in: entered, imported, received by the channel's email alias, created "
        "over the API or moved into the channel.",
    )
    sales_process_auto_start_opportunity = fields.Boolean(
        "Start for Every New Opportunity",
        help="Start a Sales Process on every new opportunity of this B2B channel, however "
        "it comes in: entered, imported, created over the API, moved into the channel "
        "or converted from a lead that follows no process.",
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

    @api.model
    @tools.ormcache()
    def _sales_process_auto_start(self):
        """{(team id, record type)} of the channels that start a process on
        their new records. Cached: every lead created or moved asks."""
        teams = (
            self.sudo()
            .with_context(active_test=True)
            .search_fetch(
                [
                    ("channel_type", "=", "b2b"),
                    "|",
                    ("sales_process_auto_start_lead", "=", True),
                    ("sales_process_auto_start_opportunity", "=", True),
                ],
                ["sales_process_auto_start_lead", "sales_process_auto_start_opportunity"],
            )
        )
        rules = set()
        for team in teams:
            if team.sales_process_auto_start_lead:
                rules.add((team.id, "lead"))
            if team.sales_process_auto_start_opportunity:
                rules.add((team.id, "opportunity"))
        return frozenset(rules)

    @api.model_create_multi
    def create(self, vals_list):
        teams = super().create(vals_list)
        if any(AUTO_START_FIELDS & set(vals) for vals in vals_list):
            self.env.registry.clear_cache()
        return teams

    def write(self, vals):
        result = super().write(vals)
        if AUTO_START_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
