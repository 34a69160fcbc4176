# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
from collections import defaultdict

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
        # and those the Step Visits summary folds (report/crm_sales_process_stay_summary.py)
        "from_step_transition_id",
        "from_step_reentry",
    }
)
# the columns of the lines the processes' facts come from (_note_facts)
FACT_FIELDS = frozenset({"process_id", "transition_id", "from_step_id", "to_step_id", "date", "lead_id"})


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
    # the stay the process was in when the line was written (in its From
    # Step, since date_from_step): the transition that began it and whether
    # it was a re-entry, copied from the process (Step Visits reads them)
    from_step_transition_id = fields.Many2one(
        "crm.sales.process.transition",
        string="From Step Entered By",
        ondelete="restrict",
        readonly=True,
    )
    from_step_reentry = fields.Boolean("From Step Was a Re-entry", readonly=True)
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
    # the same for the completed stays Step Visits reads (the lines that
    # leave a step: crm.sales.process.report._leaves_step)
    stay_summary_id = fields.Many2one(
        "crm.sales.process.stay.summary", ondelete="set null", readonly=True, copy=False, index="btree_not_null"
    )
    # the lines that change no step (a follow-up), which the processes'
    # facts do not date (crm.sales.process.report._funnel_selection)
    _unchanging_idx = models.Index("(date, process_id) WHERE from_step_id = to_step_id")
    _unfolded_stays_idx = models.Index(
        "(id) WHERE stay_summary_id IS NULL AND transition_id IS NOT NULL"
        " AND from_step_id IS NOT NULL AND from_step_id != to_step_id"
    )

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
        facts = self._note_facts(vals_list)
        lines = super().create(vals_list)
        # the processes' facts join the engine's update of the same processes,
        # still to be flushed: one UPDATE for the batch, as before
        by_values = defaultdict(list)
        for process_id, values in facts.items():
            by_values[tuple(sorted(values.items()))].append(process_id)
        for values, process_ids in by_values.items():
            Process.browse(process_ids).write({fname: list(v) if isinstance(v, tuple) else v for fname, v in values})
        return lines

    @api.model
    def _note_facts(self, vals_list):
        """The facts of each process (crm.sales.process: date_started...)
        brought up to date with the lines ``vals_list``, in their order, from
        the values in the cache (no query); each line that leaves a step gets
        the stay it ends (from_step_transition_id, from_step_reentry).
        Return {process id: facts}. _fill_facts() is the same in SQL."""
        Process = self.env["crm.sales.process"]
        Step = self.env["crm.sales.process.step"]
        facts = {}
        for vals in vals_list:
            process = Process.browse(vals["process_id"])
            step = Step.browse(vals.get("to_step_id"))
            transition = self.env["crm.sales.process.transition"].browse(vals.get("transition_id"))
            if not vals.get("from_step_id"):
                # a start: the first line of its process
                # (its first record is the one it was created with: first_lead_id)
                known = facts[process.id] = {
                    "date_started": vals["date"],
                    "first_step_id": step.id,
                    "date_opportunity": False,
                    "reactivation_count": 0,
                    "reopen_count": 0,
                    "steps_reached": (),
                    "step_transition_id": False,
                    "step_reentry": False,
                }
            else:
                known = facts.get(process.id)
                if known is None:
                    known = facts[process.id] = {
                        "date_opportunity": process.date_opportunity,
                        "reactivation_count": process.reactivation_count,
                        "reopen_count": process.reopen_count,
                        "steps_reached": tuple(process.steps_reached or ()),
                        "step_transition_id": process.step_transition_id.id,
                        "step_reentry": process.step_reentry,
                    }
                vals.setdefault("from_step_transition_id", known["step_transition_id"])
                vals.setdefault("from_step_reentry", known["step_reentry"])
            if vals.get("from_step_id") != step.id:
                known["date_changed"] = vals["date"]
            if transition and vals.get("from_step_id") != step.id:
                # a new stay begins (a follow-up stays, a move keeps the stay)
                known["step_transition_id"] = transition.id
                known["step_reentry"] = step.id in known["steps_reached"]
            if step.id not in known["steps_reached"]:
                known["steps_reached"] += (step.id,)
            if step.record_type == "opportunity" and not known["date_opportunity"]:
                known["date_opportunity"] = vals["date"]
            if transition.effect == "reactivate":
                known["reactivation_count"] += 1
            elif transition.effect == "reopen":
                known["reopen_count"] += 1
        return facts

    def write(self, vals):
        if SUMMARIZED_FIELDS.intersection(vals):
            self._unfold_summary(SQL("log.id = ANY(%s)", self.ids))
        result = super().write(vals)
        if FACT_FIELDS.intersection(vals):
            self._fill_facts(self.process_id.ids)
        return result

    def unlink(self):
        self._unfold_summary(SQL("log.id = ANY(%s)", self.ids))
        processes = self.process_id
        result = super().unlink()
        self._fill_facts(processes.exists().ids)
        return result

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
        self._fill_facts(process_ids)
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
    def _fill_facts(self, process_ids=None):
        """The processes' facts and their lines' From Step stays, from their
        whole log (_note_facts() keeps them as lines are written): after the
        log was rewritten, and on the processes that predate them (upgrade
        to 19.0.1.3.0). Every process when ``process_ids`` is None."""
        self.env.flush_all()
        where = SQL("TRUE") if process_ids is None else SQL("l.process_id = ANY(%s)", list(process_ids))
        self.env.cr.execute(
            SQL(
                """
            WITH line AS MATERIALIZED (
                SELECT l.id, l.process_id, l.date, l.lead_id, l.from_step_id, l.to_step_id, l.transition_id,
                       tr.effect, step.record_type, e.enters,
                       -- the process had been in the step before (an earlier line led there)
                       row_number() OVER (PARTITION BY l.process_id, l.to_step_id ORDER BY l.id) > 1 AS seen,
                       -- the stays, numbered: the lines of one stay share its number
                       count(*) FILTER (WHERE e.enters) OVER (PARTITION BY l.process_id ORDER BY l.id) AS stay
                  FROM crm_sales_process_log l
                  JOIN crm_sales_process_step step ON step.id = l.to_step_id
                  LEFT JOIN crm_sales_process_transition tr ON tr.id = l.transition_id,
                       LATERAL (SELECT l.transition_id IS NOT NULL
                                       AND l.from_step_id IS DISTINCT FROM l.to_step_id AS enters) e
                 WHERE %s
            ), stays AS (
                UPDATE crm_sales_process_log log
                   SET from_step_transition_id = entry.transition_id, from_step_reentry = entry.seen
                  FROM line
                  JOIN line entry
                    ON entry.process_id = line.process_id AND entry.enters
                   AND entry.stay = line.stay - line.enters::int
                 WHERE log.id = line.id AND line.from_step_id IS NOT NULL
            )
            UPDATE crm_sales_process process
               SET date_started = f.date_started, first_lead_id = f.first_lead_id,
                   first_step_id = f.first_step_id, date_opportunity = f.date_opportunity,
                   date_changed = f.date_changed,
                   reactivation_count = f.reactivation_count, reopen_count = f.reopen_count,
                   steps_reached = f.steps_reached, step_transition_id = f.step_transition_id,
                   step_reentry = f.step_reentry
              FROM (
                SELECT process_id,
                       (array_agg(date ORDER BY id))[1] AS date_started,
                       (array_agg(lead_id ORDER BY id))[1] AS first_lead_id,
                       (array_agg(to_step_id ORDER BY id))[1] AS first_step_id,
                       (array_agg(date ORDER BY id) FILTER (WHERE record_type = 'opportunity'))[1]
                           AS date_opportunity,
                       (array_agg(date ORDER BY id DESC) FILTER (WHERE from_step_id IS DISTINCT FROM to_step_id))[1]
                           AS date_changed,
                       count(*) FILTER (WHERE effect = 'reactivate') AS reactivation_count,
                       count(*) FILTER (WHERE effect = 'reopen') AS reopen_count,
                       jsonb_agg(to_step_id ORDER BY id) FILTER (WHERE NOT seen) AS steps_reached,
                       (array_agg(transition_id ORDER BY id DESC) FILTER (WHERE enters))[1]
                           AS step_transition_id,
                       COALESCE((array_agg(seen ORDER BY id DESC) FILTER (WHERE enters))[1], FALSE)
                           AS step_reentry
                  FROM line
                 GROUP BY process_id
              ) f
             WHERE process.id = f.process_id
            """,
                where,
            )
        )
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
