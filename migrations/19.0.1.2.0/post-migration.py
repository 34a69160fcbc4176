# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The analysis summary (crm.sales.process.log.summary, created by the
    upgrade) gets the past days of the log at once, as the daily cron would
    have folded them: the analysis reads it from the first day on."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.sales.process.log.summary"]._fold()
