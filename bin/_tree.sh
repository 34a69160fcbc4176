# Sourced by bin/lint and bin/i18n: a copy of the addon's files (tracked or
# new, not ignored) in $TREE/crm_sales_process, inside a git repository of
# its own. The checkout's root is the addon, so its own folder also holds
# .venv and .cache, which Odoo's translation export would scan and which
# pylint-odoo and the OCA hooks (made for an OCA repository, addons in
# folders of their names) cannot tell apart from the addon.
TREE="$REPO/.cache/tree/$(basename "$0")"  # one per command: they may run at once
rm -rf "$TREE"
mkdir -p "$TREE/$MODULE"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$TREE/$MODULE"
git -C "$TREE" init -q
