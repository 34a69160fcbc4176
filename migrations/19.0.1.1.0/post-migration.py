# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The log lines written before the Sales Process Analysis get the
    columns it reads."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.sales.process.log"]._fill_analysis_columns()
