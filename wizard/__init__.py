from . import crm_sales_process_transition_wizard
from . import crm_sales_process_move
from . import crm_sales_process_move_line
from . import crm_sales_process_plan_launch
