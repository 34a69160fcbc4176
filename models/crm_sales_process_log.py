# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from odoo import api, fields, models
from odoo.tools import SQL

# the columns a summary row of the analysis folds (report/crm_sales_process_log_summary.py)
SUMMARIZED_FIELDS = frozenset(
    {
        "transition_id",
        "from_step_id",
        "to_step_id",
        "owner_id",
        "team_id",
        "company_id",
        "record_origin",
        "date",
        "date_from_step",
    }
)


class CrmSalesProcessLog(models.Model):
    _name = "crm.sales.process.log"
    _description = "Sales Process Transition Log"
    _order = "date desc, id desc"

    process_id = fields.Many2one("crm.sales.process", required=True, index=True, ondelete="cascade", readonly=True)
    transition_id = fields.Many2one(
        "crm.sales.process.transition",
        ondelete="restrict",
        readonly=True,
        help="Empty for a move to another workflow (see the note).",
    )
    note = fields.Char(readonly=True)
    from_step_id = fields.Many2one("crm.sales.process.step", ondelete="restrict", readonly=True)
    to_step_id = fields.Many2one("crm.sales.process.step", ondelete="restrict", readonly=True)
    user_id = fields.Many2one("res.users", string="By", required=True, readonly=True)
    # the analysis filters by period (its default: the last twelve months)
    date = fields.Datetime(required=True, readonly=True, index=True)
    values = fields.Json("Submitted Values", readonly=True)
    values_text = fields.Text("Values", compute="_compute_values_text")
    lead_id = fields.Many2one("crm.lead", string="Record", ondelete="set null", readonly=True)
    new_lead_id = fields.Many2one("crm.lead", string="Created Record", ondelete="set null", readonly=True)
    # the company of the process when the transition ran: a log line is
    # history, and a stored related field would cost a recompute per transition
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    # the rest is read by the analysis (report/): the owner and channel of
    # the process right after the transition, when the process had entered
    # the step it left, and how the record acted on came to be; kept on the
    # line because they change later and the analysis must not rebuild them
    # from the whole log at every query
    owner_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Channel", readonly=True)
    date_from_step = fields.Datetime(
        "In From Step Since",
        readonly=True,
        help="When the process had entered the step this transition left.",
    )
    record_origin = fields.Selection(
        [("new", "First Pass"), ("reactivated", "Reactivated Lead"), ("reopened", "Reopened Deal")],
        readonly=True,
        help="Whether the record the transition acted on was made by a reactivation "
        "(a lead made from a disqualified one) or a reopening (an opportunity made "
        "from a closed one).",
    )
    # the row of the analysis's summary this line is counted in, set by its
    # daily fold (never by the transition: no query more, no shared row to
    # update); empty until then, and again when the row is deleted
    summary_id = fields.Many2one(
        "crm.sales.process.log.summary", ondelete="set null", readonly=True, copy=False, index="btree_not_null"
    )
    # the lines not folded yet, which the analysis reads one by one
    _unsummarized_idx = models.Index("(id) WHERE summary_id IS NULL")

    @api.model_create_multi
    def create(self, vals_list):
        # the owner, channel and origin are those of records the transition
        # has just read or written: no query when they are in the cache
        Lead = self.env["crm.lead"].with_context(active_test=False)
        Process = self.env["crm.sales.process"]
        for vals in vals_list:
            record = Lead.browse(vals.get("new_lead_id") or vals.get("lead_id"))
            if not record:
                record = Process.browse(vals["process_id"]).current_lead_id
            vals.setdefault("owner_id", record.user_id.id)
            vals.setdefault("team_id", record.team_id.id)
            if "record_origin" not in vals:
                acted_on = Lead.browse(vals.get("lead_id"))
                origin = acted_on.sales_process_origin_id
                vals["record_origin"] = (
                    "new" if not origin else "reopened" if origin.type == "opportunity" else "reactivated"
                )
            if "date_from_step" not in vals and vals.get("from_step_id"):
                # a move to another workflow keeps the time in step running
                vals["date_from_step"] = Process.browse(vals["process_id"]).date_step
        return super().create(vals_list)

    def write(self, vals):
        if SUMMARIZED_FIELDS.intersection(vals):
            self._unfold_summary(SQL("log.id = ANY(%s)", self.ids))
        return super().write(vals)

    def unlink(self):
        self._unfold_summary(SQL("log.id = ANY(%s)", self.ids))
        return super().unlink()

    @api.model
    def _unfold_summary(self, where):
        """Before lines change or go: the summary rows counting them are
        deleted, their lines read one by one until the next fold."""
        self.env["crm.sales.process.log.summary"].sudo()._unfold_lines(where)

    @api.depends("transition_id", "note")
    def _compute_display_name(self):
        for log in self:
            log.display_name = log.transition_id.name or log.note

    @api.depends("values")
    def _compute_values_text(self):
        form = self.env["crm.sales.process.transition.wizard"]
        for log in self:
            lines = []
            for key, value in (log.values or {}).items():
                field = form._fields.get(key)
                if value is None:
                    value = self.env._("(empty)")
                elif field and field.type == "many2one":
                    value = self.env[field.comodel_name].browse(value).exists().display_name or value
                lines.append(f"{field._description_string(self.env) if field else key}: {value}")
            log.values_text = "\n".join(lines)

    @api.model
    def _recompute_step_dates(self, process_ids):
        """After the dates of log lines were rewritten (demo history, tests,
        the benchmark's bulk history): each line's date_from_step, and each
        process's date_step and date_start, from the log itself, in its id
        order (the order the transitions ran in). A move to another workflow
        (no transition) does not restart the time in step, as in the engine."""
        self._unfold_summary(SQL("log.process_id = ANY(%s)", list(process_ids)))
        self._fill_date_from_step(process_ids)
        self.env.cr.execute(
            """
            UPDATE crm_sales_process process
               SET date_step = last.date_step, date_start = last.date_start
              FROM (
                SELECT process_id,
                       max(date) FILTER (
                           WHERE transition_id IS NOT NULL
                             AND from_step_id IS DISTINCT FROM to_step_id
                       ) AS date_step,
                       min(date)::date AS date_start
                  FROM crm_sales_process_log
                 WHERE process_id = ANY(%(ids)s)
                 GROUP BY process_id
              ) last
             WHERE last.process_id = process.id
            """,
            {"ids": list(process_ids)},
        )
        self.env.invalidate_all()

    @api.model
    def _fill_analysis_columns(self):
        """The columns the analysis reads, on the log lines written before
        they existed (migrations/19.0.1.1.0): owner and channel from the
        record the line made or acted on, the record's origin, the time the
        process had entered the step the line left."""
        self._unfold_summary(SQL("TRUE"))
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE crm_sales_process_log log
               SET owner_id = lead.user_id, team_id = lead.team_id
              FROM crm_lead lead
             WHERE lead.id = COALESCE(log.new_lead_id, log.lead_id) AND log.owner_id IS NULL;
            UPDATE crm_sales_process_log log
               SET record_origin = CASE WHEN origin.id IS NULL THEN 'new'
                                        WHEN origin.type = 'opportunity' THEN 'reopened'
                                        ELSE 'reactivated' END
              FROM crm_lead lead
              LEFT JOIN crm_lead origin ON origin.id = lead.sales_process_origin_id
             WHERE lead.id = log.lead_id AND log.record_origin IS NULL;
            SELECT DISTINCT process_id FROM crm_sales_process_log
             WHERE date_from_step IS NULL AND from_step_id IS NOT NULL
            """
        )
        self._fill_date_from_step([row[0] for row in self.env.cr.fetchall()])
        self.env.invalidate_all()

    @api.model
    def _fill_date_from_step(self, process_ids):
        self.env.flush_all()
        self.env.cr.execute(
            """
            WITH marked AS (
                SELECT id, process_id, date, from_step_id,
                       transition_id IS NOT NULL
                       AND from_step_id IS DISTINCT FROM to_step_id AS enters
                  FROM crm_sales_process_log
                 WHERE process_id = ANY(%(ids)s)
            ), entered AS (
                SELECT id, from_step_id,
                       max(CASE WHEN enters THEN date END) OVER (
                           PARTITION BY process_id ORDER BY id
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                       ) AS date_from_step
                  FROM marked
            )
            UPDATE crm_sales_process_log log
               SET date_from_step = entered.date_from_step
              FROM entered
             WHERE entered.id = log.id AND entered.from_step_id IS NOT NULL
            """,
            {"ids": list(process_ids)},
        )
