# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import fields, models


class IrUiView(models.Model):
    """The funnel view of the Sales Process Analysis (static/src/funnel):
    Odoo's graph view draws no funnel."""

    _inherit = "ir.ui.view"

    type = fields.Selection(selection_add=[("sales_funnel", "Funnel")], ondelete={"sales_funnel": "cascade"})

    def _get_view_info(self):
        return {"sales_funnel": {"icon": "fa fa-filter"}} | super()._get_view_info()

    def _validate_tag_sales_funnel(self, node, name_manager, node_info):
        if not node_info["validate"]:
            return
        for child in node.iterchildren():
            if isinstance(child.tag, str):
                self._raise_view_error(
                    self.env._("A funnel view takes no child element, got <%(tag)s>.", tag=child.tag),
                    child,
                )
        unknown = set(node.attrib) - {"string", "js_class", "__validate__"}
        if unknown:
            self._raise_view_error(
                self.env._(
                    "Invalid attributes %(names)s in a funnel view (it takes string and js_class).",
                    names=", ".join(sorted(unknown)),
                ),
                node,
            )
