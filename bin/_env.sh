# Shared by bin/demo and bin/test: find Odoo 19 and link this checkout under
# the name Odoo needs (a module is named after its folder).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE=crm_sales_process

if ! ODOO_SERIES=$(python3 -c 'import odoo.release as r; print(r.series)' 2>/dev/null) \
        || [ "$ODOO_SERIES" != "19.0" ]; then
    echo "error: python3 cannot import Odoo 19.0 (got '${ODOO_SERIES:-nothing}'); see README.md, Prerequisites." >&2
    exit 1
fi

# The folder holding Odoo's standard addons (crm, mail, ...): next to the odoo
# package in a source checkout, inside it in a packaged install.
ODOO_ADDONS=$(python3 - <<'PY'
import os
import odoo.release
root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.release.__file__)))
for path in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")):
    if os.path.isdir(os.path.join(path, "crm")):
        print(path)
        break
PY
)
if [ -z "$ODOO_ADDONS" ]; then
    echo "error: the Odoo that python3 imports has no 'crm' addon." >&2
    exit 1
fi

# A scratch addons folder per checkout, where the checkout is linked as crm_sales_process.
SCRATCH="${TMPDIR:-/tmp}/crm_sales_process_addons.$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)"
mkdir -p "$SCRATCH"
ln -sfn "$REPO" "$SCRATCH/$MODULE"
ADDONS_PATH="$ODOO_ADDONS,$SCRATCH"

if ! psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    echo "error: PostgreSQL does not answer for user '$(id -un)'; see README.md, Prerequisites." >&2
    exit 1
fi
