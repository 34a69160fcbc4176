# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).


def uninstall_hook(env):
    """Leads, sales channels, lost reasons and users are the company's data,
    even those this module created (its default lost reasons, its demo, the
    demo salesperson who owns leads): release them from the module so that
    uninstalling it deletes none of them."""
    env["ir.model.data"].search(
        [
            ("module", "=", "crm_sales_process"),
            ("model", "in", ("crm.lead", "crm.team", "crm.lost.reason", "res.users", "res.partner")),
        ]
    ).unlink()
