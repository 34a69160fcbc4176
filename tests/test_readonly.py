# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The analysis, the process kanban with its Stuck badge, the forms and the
workflow diagram on a read-only cursor, as Odoo serves them from a
PostgreSQL replica (``db_replica_host``): each method the web client calls
to show them must be routed there (marked ``@api.readonly``, what
web/controllers/dataset.py's ``_call_kw_readonly`` looks for) and write
nothing (a hot standby refuses any write; Odoo then runs the whole request
again on the primary, and the replica takes nothing off it).

The calls are those of the screens, by their public names and built from
their views as the web client builds them (pivot: formatted_read_grouping_sets
of the rows, columns and measures of the pivot view; graph:
formatted_read_group; list and kanban: web_search_read and web_read_group;
forms: get_views and web_read of every field of the form), so that they
follow the views and the report models as these change. They run in Odoo's
test mode on a read-only test cursor (``registry.cursor(readonly=True)``:
``SET TRANSACTION READ ONLY``), as a manager and as a salesman (whose record
rules send the analysis to the log instead of its summary), on the demo data
as the module installs it plus processes of the day (log lines not folded
into the summary yet)."""

from datetime import datetime, timedelta

import psycopg2
from lxml import etree

from odoo import api
from odoo.service.model import call_kw
from odoo.tests import tagged

from .common import SalesProcessCase

# the analysis screens: their actions, and the date their default filter is on
REPORTS = {
    "crm_sales_process.crm_sales_process_report_action": "date",
    "crm_sales_process.crm_sales_process_step_time_report_action": "date_left",
    "crm_sales_process.crm_sales_process_journey_report_action": "date_start",
    "crm_sales_process.crm_sales_process_visit_report_action": "date_entered",
}


def routed_to_replica(model, method):
    """Whether /web/dataset/call_kw and call_button give a call of ``method``
    a read-only cursor: web/controllers/dataset.py's _call_kw_readonly."""
    for cls in type(model).mro():
        function = getattr(cls, method, None)
        if function is not None and hasattr(function, "_readonly"):
            return function._readonly
    return False


def specification(fields):
    """What the web client asks web_read/web_search_read for: a many2one
    with its display name, any other field as it is."""
    return {
        name: {"fields": {"display_name": {}}} if field["type"] == "many2one" else {} for name, field in fields.items()
    }


@tagged("post_install", "-at_install")
class TestReadOnly(SalesProcessCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # processes of the day, of the salesman: log lines the daily fold has
        # not put in the summary yet, read beside it
        for index, code in enumerate(("disqualify", "qualify", "close_as_lost")):
            lead = cls.env["crm.lead"].create(
                {"name": f"SP Read-only {index}", "type": "lead", "team_id": cls.team.id, "user_id": cls.salesman.id}
            )
            Process = cls.Process.with_user(cls.salesman)
            process = Process.browse(Process.start_from_lead(lead.id))
            path = {"disqualify": [], "qualify": [], "close_as_lost": ["qualify"]}[code]
            for previous in [*path, code]:
                values = {
                    "qualify": {"company_name": f"Read-only {index} SP"},
                    "close_as_lost": {"lost_reason_id": cls.outsold.id},
                }.get(previous, {})
                process.run_transition(previous, values)
        cls.env.flush_all()

    def read_only(self, user):
        """A read-only cursor of Odoo's test mode and an environment of
        ``user`` on it, with the context the web client sends."""
        self.env.flush_all()
        self.registry_enter_test_mode()
        cr = self.registry.cursor(readonly=True)
        self.addCleanup(cr.close)
        cr.execute("SHOW transaction_read_only")
        self.assertEqual(cr.fetchone()[0], "on")
        context = {
            "lang": "en_US",
            "tz": "Europe/Brussels",
            "uid": user.id,
            "allowed_company_ids": user.company_ids.ids,
        }
        return api.Environment(cr, user.id, context)

    def call(self, env, model, method, *args, **kwargs):
        """``method`` as the RPC layer calls it (Odoo's call_kw), then the
        flush Odoo does before it commits (service.model.retrying): routed
        to the replica, and no write, right away or pending."""
        self.assertTrue(
            routed_to_replica(env[model], method),
            f"{model}.{method} is not marked @api.readonly: Odoo runs it on the primary",
        )
        try:
            result = call_kw(env[model], method, list(args), kwargs)
            env.flush_all()
        except psycopg2.errors.ReadOnlySqlTransaction as error:
            self.fail(f"{model}.{method}{args!r} writes on a read-only cursor: {error}".strip())
        return result

    def views(self, env, model, *kinds):
        result = self.call(env, model, "get_views", [[False, kind] for kind in kinds])
        fields = result["models"][model]["fields"]
        return {kind: etree.fromstring(result["views"][kind]["arch"]) for kind in kinds}, fields

    def read_screens(self, user):
        """Every screen of the analysis, the kanban with Stuck, the forms and
        the diagram, read as ``user``; returns what shows that they had
        something to show."""
        env = self.read_only(user)
        seen = {}
        for xmlid, date_field in REPORTS.items():
            self.read_report(env, xmlid, date_field, seen)
        self.read_processes(env, seen)
        return seen

    def read_report(self, env, xmlid, date_field, seen):
        """An analysis action's pivot, graph and list (and the funnel), over
        all time and over the last year."""
        action = env.ref(xmlid).sudo()  # as /web/action/load reads it
        model = action.res_model
        kinds = [kind for kind in action.view_mode.split(",") if kind in ("pivot", "graph", "list")]
        arches, fields = self.views(env, model, *kinds)

        def groupbys(arch, kind):
            return [
                f"{node.get('name')}:{node.get('interval')}" if node.get("interval") else node.get("name")
                for node in arch.iterfind("field")
                if node.get("type") == kind or (kind is None and node.get("type") != "measure")
            ]

        def measures(arch):
            return [
                f"{node.get('name')}:{fields[node.get('name')]['aggregator']}"
                for node in arch.iterfind("field[@type='measure']")
            ]

        for domain in ([], [(date_field, ">=", datetime.now() - timedelta(days=365))]):
            rows = []
            if "pivot" in arches:
                rows, cols = groupbys(arches["pivot"], "row"), groupbys(arches["pivot"], "col")
                cells = self.call(
                    env,
                    model,
                    "formatted_read_grouping_sets",
                    domain,
                    [rows + cols, rows, cols, []],
                    ["__count", *measures(arches["pivot"])],
                )
                seen[model] = seen.get(model, 0) + cells[-1][0]["__count"]
            if "graph" in arches:
                graph = arches["graph"]
                self.call(
                    env, model, "formatted_read_group", domain, groupbys(graph, None), measures(graph) or ["__count"]
                )
            if "list" in arches:
                listed = {node.get("name") for node in arches["list"].iterfind("field")}
                self.call(
                    env, model, "web_search_read", domain, specification({n: fields[n] for n in listed}), limit=80
                )
                self.call(env, model, "web_read_group", domain, rows[:1], ["__count"])
            if model == "crm.sales.process.report":
                funnels = self.call(env, model, "get_funnel_data", domain)
                seen["funnel bars"] = sum(len(funnel["bars"]) for funnel in funnels)
                if funnels:
                    step_id = funnels[0]["bars"][0]["step_id"]
                    for kind in ("reach", "dropped"):
                        self.call(env, model, "action_open_funnel_processes", domain, step_id, kind)

    def read_processes(self, env, seen):
        """The process kanban grouped by step, filtered on Stuck; a process's
        form, its record's form (the transition buttons and the locked
        fields of _get_view), the workflow form and its diagram, and their
        buttons that only open something."""
        Process = "crm.sales.process"
        arches, fields = self.views(env, Process, "kanban", "list", "form")
        kanban = specification({node.get("name"): fields[node.get("name")] for node in arches["kanban"].iter("field")})
        stuck = [("is_stuck", "=", True)]
        groups = self.call(
            env,
            Process,
            "web_read_group",
            stuck,
            ["step_id"],
            ["__count"],
            auto_unfold=True,
            unfold_read_specification=kanban,
        )
        seen["stuck"] = sum(group["__count"] for group in groups["groups"])
        self.call(env, Process, "web_search_read", [], kanban, limit=40)
        self.call(env, Process, "search_count", stuck)
        process = env[Process].search([], limit=1, order="id desc")
        self.call(env, Process, "web_read", process.ids, specification(fields))
        self.call(env, Process, "action_open_current_lead", process.ids)

        __, lead_fields = self.views(env, "crm.lead", "form")
        self.call(env, "crm.lead", "web_read", process.current_lead_id.ids, specification(lead_fields))
        self.call(env, "crm.lead", "action_open_sales_process", process.current_lead_id.ids)

        Workflow = "crm.sales.process.workflow"
        __, workflow_fields = self.views(env, Workflow, "form")
        workflow = env.ref("crm_sales_process.workflow_b2b")
        read = self.call(env, Workflow, "web_read", workflow.ids, specification(workflow_fields))
        seen["diagram"] = "<svg" in (read[0].get("diagram") or "")
        self.call(env, Workflow, "action_view_processes", workflow.ids)
        self.call(env, Workflow, "action_move_processes", workflow.ids)

    def test_manager_screens_on_a_read_only_cursor(self):
        seen = self.read_screens(self.manager)
        # not vacuous: the demo data and the processes of the day fill them
        for model in ("crm.sales.process.report", "crm.sales.process.step.time.report"):
            self.assertGreater(seen[model], 0, model)
        self.assertGreater(seen["funnel bars"], 0)
        self.assertGreater(seen["stuck"], 0, "the demo data holds stuck processes")
        self.assertTrue(seen["diagram"])

    def test_salesman_screens_on_a_read_only_cursor(self):
        seen = self.read_screens(self.salesman)
        self.assertGreater(seen["crm.sales.process.report"], 0, "the salesman's processes of the day")

    def test_the_cursor_refuses_a_write(self):
        """The guard the tests above rely on: a write on this cursor fails."""
        env = self.read_only(self.manager)
        step = env.ref("crm_sales_process.workflow_b2b").step_ids[:1]
        with self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction), self.assertLogs("odoo.sql_db", "ERROR"):
            step.max_days = 40
            env.flush_all()
