# Sourced by the commands in bin/: sets up what they run on, the first time
# from scratch, later reusing it (bin/devenv does the work):
#   - .venv: a virtual environment with Odoo 19.0 Community from ODOO_SOURCE
#     (default: Odoo's nightly source tarball) and the requirements;
#   - PostgreSQL: the server PGHOST/PGPORT/PGUSER/PGPASSWORD or ODOO_RC name,
#     else an embedded one (data in .cache/postgres), stopped when the
#     command ends;
#   - with CSP_TOOLS=test: the test tools and Chromium.
# Then it links the checkout as crm_sales_process in a scratch addons folder
# (Odoo names a module after its folder). A command registers its own
# clean-up with `at_exit`: it runs on success, failure and Ctrl-C alike.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE=crm_sales_process
VENV="$REPO/.venv"
DEVENV="$REPO/bin/devenv"

_AT_EXIT=()
at_exit() { _AT_EXIT=("$1" "${_AT_EXIT[@]}"); }  # the last registered runs first
_run_at_exit() {
    local status=$?
    set +e
    for command in "${_AT_EXIT[@]}"; do eval "$command"; done
    exit "$status"
}
trap _run_at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Python 3.10 to 3.13 (what Odoo 19.0 pins its requirements for): $PYTHON,
# else the first of these on the PATH.
BASE_PYTHON=""
for candidate in ${PYTHON:-python3 python3.12 python3.11 python3.10 python3.13}; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
            'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
        BASE_PYTHON="$candidate"
        break
    fi
done
if [ -z "$BASE_PYTHON" ]; then
    found="$( (command -v "${PYTHON:-python3}" >/dev/null && "${PYTHON:-python3}" --version) 2>&1 || echo none)"
    echo "error: Odoo 19.0 needs Python 3.10 to 3.13, and ${PYTHON:-python3} is ${found:-none}." \
        "Install one (e.g. apt install python3.12-venv) and run: PYTHON=python3.12 $0" >&2
    exit 1
fi

ODOO_ADDONS="$("$BASE_PYTHON" "$DEVENV" venv ${CSP_TOOLS:+--test})"  # Odoo's standard addons
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
unset PYTHONHOME

source "$REPO/bin/_scratch.sh"
ADDONS_PATH="$ODOO_ADDONS,$SCRATCH"

if [ -n "${CSP_TOOLS:-}" ]; then
    "$VENV/bin/python" "$DEVENV" chromium
fi

pg_exports="$("$VENV/bin/python" "$DEVENV" pg-start $$)" || exit 1
eval "$pg_exports"
PG_BIN="$("$VENV/bin/python" "$DEVENV" pg-bin)"
if [ "$CSP_PG" = embedded ]; then
    at_exit "\"$VENV/bin/python\" \"$DEVENV\" pg-stop $$"
    export PATH="$PG_BIN:$PATH"
else
    export PATH="$PATH:$PG_BIN"  # psql, dropdb... where the machine has none
fi
