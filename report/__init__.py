from . import crm_sales_process_log_summary
from . import crm_sales_process_stay_summary
from . import crm_sales_process_report
from . import crm_sales_process_visit_report
from . import crm_sales_process_journey_report
from . import crm_sales_process_step_time_report
