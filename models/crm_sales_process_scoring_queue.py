# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import logging
import random
import time

from psycopg2 import errors as pg_errors
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED, TRANSACTION_STATUS_IDLE

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the lead scoring counts (any constant of ours)
PLS_COUNT_LOCK = 0x5A1E5C0DE


class CrmSalesProcessScoringQueue(models.Model):
    """Closings of the transitions waiting to be counted in Odoo's lead scoring.

    Odoo counts won and lost leads in rows of its lead scoring table that a
    whole team shares: concurrent closings of one team collide on them and
    fail once Odoo's retries run out. A transition's closings are counted
    after its commit instead, in a short transaction of their own (as Odoo
    itself does for partner ranks, account's res.partner._increase_rank).

    They wait here: a transition writes its closings in its own transaction,
    and the counting transaction deletes what it counts. Each closing is
    counted exactly once, also when the process dies between the two commits
    or the count fails (a restarted database): the cron counts what is left.
    """

    _name = "crm.sales.process.scoring.queue"
    _description = "Sales Process Closings to Count in Lead Scoring"
    _order = "id"

    lead_ids = fields.Json("Leads", required=True, readonly=True, help="Ids of the closed crm.lead records.")
    from_state = fields.Char(readonly=True)
    to_state = fields.Char(readonly=True)

    @api.model
    def _enqueue(self, leads, from_state, to_state):
        """Queue Odoo's count of ``leads`` going from_state -> to_state, to
        run after this transaction's commit."""
        row = self.sudo().create({"lead_ids": leads.ids, "from_state": from_state, "to_state": to_state})
        postcommit = self.env.cr.postcommit
        queued = postcommit.data.setdefault("crm_sales_process.scoring_queue", [])
        if not queued:
            postcommit.add(lambda: self._count_after_commit(queued))
        queued.append(row.id)

    def _count_after_commit(self, ids):
        """Count the rows ``ids`` now; a failure leaves them to the cron (the
        transition has committed: its caller must not see an error)."""
        self._count_in_own_transaction(ids)

    @api.model
    def _cron_count(self):
        # in a transaction of its own, as the counts after commit: the cron's
        # cursor has locked its job already, so it cannot be read committed
        self._count_in_own_transaction(None)

    def _count_in_own_transaction(self, ids):
        for attempt in range(1, 6):
            try:
                with self.env.registry.cursor() as cr:
                    self.with_env(self.env(cr=cr, su=True))._count(ids)
                return
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
            except Exception as error:  # noqa: BLE001 -- the rows stay queued
                _logger.info("Lead scoring counts left to the next run of the cron: %s", error)
                return
        _logger.info("Lead scoring counts left to the next run of the cron (%s).", "all" if ids is None else len(ids))

    @api.model
    def _count(self, ids=None):
        """Count the queued closings (``ids``, else all) in Odoo's lead
        scoring and delete them, in this transaction.

        In read committed behind locks: a counter waits for the one before
        it and reads what it committed, where a snapshot of the shared rows
        would fail under load. (A cursor already mid-transaction, a test's,
        keeps its isolation.)"""
        cr = self.env.cr
        if cr.connection.get_transaction_status() == TRANSACTION_STATUS_IDLE:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        # our counters, one at a time: they may insert the same new rows
        cr.execute("SELECT pg_advisory_xact_lock(%s)", [PLS_COUNT_LOCK])
        self.flush_model()
        cr.execute(
            SQL(
                "SELECT id, lead_ids, from_state, to_state FROM crm_sales_process_scoring_queue %s"
                " ORDER BY id FOR UPDATE SKIP LOCKED",
                SQL("WHERE id = ANY(%s)", list(ids)) if ids is not None else SQL(),
            )
        )
        rows = cr.fetchall()
        if not rows:
            return
        Lead = self.env["crm.lead"].with_context(active_test=False)
        existing = Lead.browse({lead_id for __, lead_ids, __, __ in rows for lead_id in lead_ids}).exists()
        batches = [
            (existing.browse(lead_ids) & existing, from_state, to_state) for __, lead_ids, from_state, to_state in rows
        ]
        # and against Odoo's own counting (its won/lost buttons): the team
        # rows stay locked from this read to the commit
        team_ids = list({team.id for leads, __, __ in batches for team in leads.team_id})
        cr.execute(
            "SELECT id FROM crm_lead_scoring_frequency WHERE team_id = ANY(%s) OR team_id IS NULL FOR NO KEY UPDATE",
            [team_ids],
        )
        for leads, from_state, to_state in batches:
            # outside the engine: Odoo's own counting
            leads._pls_increment_frequencies(from_state, to_state)
        # rows of the engine's own bookkeeping: no record rule, attachment or
        # default to clean up, as an unlink() would look for
        cr.execute("DELETE FROM crm_sales_process_scoring_queue WHERE id = ANY(%s)", [[row[0] for row in rows]])
        self.invalidate_model()
