# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import SUPERUSER_ID, api

# the salesman's rules of the reports read from the log, on the process's
# current owner as a column of each view (noupdate records: rewritten here)
OWN_RULES = (
    "crm_sales_process_report_rule_own",
    "crm_sales_process_step_time_report_rule_own",
    "crm_sales_process_visit_report_rule_own",
)


def migrate(cr, version):
    """The facts the analysis reads of each process instead of its whole log
    (when it started, its first record, its reopens, the steps it reached,
    its current stay; the stay each line ended), from the log written before
    the engine kept them. The salesman's rules of the analysis, Time in Step
    and Step Visits filter on the process's current owner as a column of the
    view (the same rows; PostgreSQL starts from his processes instead of
    reading the whole log). The summary folded again: the months that are
    over by month, with finer bins of stays; the completed stays of Step
    Visits for the first time."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid in OWN_RULES:
        rule = env.ref(f"crm_sales_process.{xmlid}", raise_if_not_found=False)
        if rule:
            rule.domain_force = "['|', ('process_owner_id', '=', user.id), ('process_owner_id', '=', False)]"
    env["crm.sales.process.log"]._fill_facts()
    summary = env["crm.sales.process.log.summary"]
    summary._unfold_all()
    summary._fold()
