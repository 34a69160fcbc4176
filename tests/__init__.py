from . import test_transitions
from . import test_refusals
from . import test_guard
from . import test_race
from . import test_security
from . import test_rpc
from . import test_ui
from . import test_views
