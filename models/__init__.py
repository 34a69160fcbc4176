from . import crm_sales_process_workflow
from . import crm_sales_process_step
from . import crm_sales_process_transition
from . import crm_sales_process
from . import crm_sales_process_log
from . import crm_lead
from . import crm_team
from . import crm_sales_process_scoring_queue
