# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
{
    "name": "CRM Sales Processes",
    "summary": "Guided B2B sales processes: lead, disqualified lead, opportunity, "
    "developed, won, lost, as a customizable workflow on Odoo CRM",
    "version": "19.0.1.3.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "crm_sales_process developers",
    "depends": ["crm"],
    "data": [
        "security/crm_sales_process_security.xml",
        "security/ir.model.access.csv",
        "data/crm_lost_reason_data.xml",
        "data/crm_sales_process_workflow_data.xml",
        "data/crm_sales_process_cron.xml",
        "wizard/crm_sales_process_transition_wizard_views.xml",
        "wizard/crm_sales_process_move_views.xml",
        "wizard/crm_sales_process_plan_launch_views.xml",
        "views/crm_sales_process_log_views.xml",
        "views/crm_sales_process_views.xml",
        "views/crm_sales_process_workflow_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_team_views.xml",
        "views/crm_sales_process_menus.xml",
        "report/crm_sales_process_report_views.xml",
        "report/crm_sales_process_step_time_report_views.xml",
        "report/crm_sales_process_visit_report_views.xml",
        "report/crm_sales_process_journey_report_views.xml",
        "report/crm_sales_process_report_menus.xml",
        "report/crm_sales_process_log_summary_data.xml",
    ],
    "demo": [
        "demo/crm_sales_process_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_sales_process/static/src/**/*",
        ],
        "web.assets_tests": [
            "crm_sales_process/static/tests/tours/**/*",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "images": ["static/description/banner.png"],
}
