# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import models

from .engine_writes import queued_subtypes


class MailMessageSubtype(models.Model):
    _inherit = "mail.message.subtype"

    def exists(self):
        # Odoo's tracking checks the subtype of each record's message twice
        # (env.ref, then exists()), one query each: while a transition's
        # messages are queued, each subtype is checked once for the batch
        known = queued_subtypes()
        if known is None or not all(isinstance(id_, int) for id_ in self._ids):
            return super().exists()
        unknown = [id_ for id_ in self._ids if id_ not in known]
        if unknown:
            found = set(super(MailMessageSubtype, self.browse(unknown)).exists()._ids)
            known.update((id_, id_ in found) for id_ in unknown)
        return self.browse([id_ for id_ in self._ids if known[id_]])
