# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo.tests import HttpCase, tagged

from .common import SalesProcessCase


@tagged("post_install", "-at_install")
class TestAnalysisUi(HttpCase, SalesProcessCase):
    """The analysis in Chromium, as a salesman who sees his own processes only
    (the demo history belongs to other salespeople)."""

    def test_tour_funnel_opens_the_processes_of_a_bar(self):
        won = self._start(self._lead("SP Tour Won Deal"), user=self.salesman)
        won.run_transition("qualify", {"company_name": "Initech SP"})
        won.run_transition("close_as_won", {"close_revenue": 1000})
        open_deal = self._start(self._lead("SP Tour Open Deal"), user=self.salesman)
        open_deal.run_transition("qualify", {"company_name": "Initech SP"})
        disqualified = self._start(self._lead("SP Tour Disqualified"), user=self.salesman)
        disqualified.run_transition("disqualify", {})
        self.start_tour(
            "/odoo/action-crm_sales_process.crm_sales_process_report_action",
            "crm_sales_process_analysis_funnel",
            login="sp_salesman",
        )
