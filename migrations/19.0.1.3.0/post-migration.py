# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The facts the analysis reads of each process instead of its whole log
    (when it started, its first record, its reopens, the steps it reached,
    its current stay; the stay each line ended), from the log written before
    the engine kept them; then the past days' completed stays folded into the
    Step Visits summary, as the daily cron would have."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.sales.process.log"]._fill_facts()
    env["crm.sales.process.log.summary"]._fold()
