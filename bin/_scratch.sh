# Sourced by bin/_env.sh and bin/lint: a scratch addons folder per checkout,
# where the checkout is linked under the name crm_sales_process (Odoo and
# pylint-odoo name a module after its folder, whatever the clone is called).
SCRATCH="${TMPDIR:-/tmp}/crm_sales_process_addons.$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)"
mkdir -p "$SCRATCH"
ln -sfn "$REPO" "$SCRATCH/$MODULE"
