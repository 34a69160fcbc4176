#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Screenshots of the running app for the README and the Apps page.

Starts `bin/demo` (demo database crm_sales_process_demo, created if missing)
on a free port, drives headless Chromium through the DevTools protocol
(logged in as admin), and writes PNG files into static/description/

    bin/python scripts/screenshots.py [--db crm_sales_process_demo] [--out static/description] [--lang fr_FR]
"""

import argparse
import base64
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_ACTION = "crm_lead_action_start_sales_processes"
# the names Odoo's own browser tests look for (bin/python makes sure one is there)
CHROMIUM = next(filter(None, map(shutil.which, ("google-chrome", "chromium", "chromium-browser"))), "chromium")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Odoo:
    """A logged-in JSON-RPC session, whose cookie Chromium reuses."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.uid = self.rpc("/web/session/authenticate", {"db": db, "login": login, "password": password})["uid"]

    def rpc(self, path, params):
        request = urllib.request.Request(
            self.url + path,
            json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode(),
            {"Content-Type": "application/json"},
        )
        answer = json.load(self.opener.open(request))
        if answer.get("error"):
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    @property
    def session_id(self):
        return next(cookie.value for cookie in self.jar if cookie.name == "session_id")


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self, width=1440, height=900):
        port = free_port()
        self.profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)  # Chromium may still write
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for __ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.1)
        else:
            raise RuntimeError("Chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], suppress_origin=True)
        self.next_id = 0
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                time.sleep(0.8)  # let animations and lazy widgets settle
                return
            time.sleep(0.2)
        raise RuntimeError(f"{selector} did not appear")

    def wait_until(self, condition, timeout=30):
        """Wait until the JavaScript expression ``condition`` is true."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!({condition})"):
                time.sleep(0.8)
                return
            time.sleep(0.2)
        raise RuntimeError(f"{condition} did not become true")

    def open(self, url, selector):
        self.send("Page.navigate", url=url)
        self.wait_for(selector)

    def click(self, selector):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def shot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        print("wrote", os.path.relpath(path, REPO))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait()
        self.profile.cleanup()


def use_language(odoo, lang):
    """Install ``lang`` with the translations of the installed modules (Odoo's
    own Add Languages wizard) and make it the user's language."""
    lang_ids = odoo.call("res.lang", "search", [("code", "=", lang)], context={"active_test": False})
    if not lang_ids:
        sys.exit(f"no language {lang!r} in Odoo (codes look like fr_FR, de_DE)")
    wizard = odoo.call("base.language.install", "create", {"lang_ids": [(6, 0, lang_ids)], "overwrite": True})
    odoo.call("base.language.install", "lang_install", [wizard])
    odoo.call("res.users", "write", [odoo.uid], {"lang": lang})


def transition_name(odoo, code, lang):
    return odoo.call(
        "crm.sales.process.transition",
        "search_read",
        [("code", "=", code)],
        ["name"],
        limit=1,
        context={"lang": lang or "en_US"},
    )[0]["name"]


def start_list_action(browser, odoo, url, team):
    """Three trade-show leads (fresh ones at each run, so that the result is
    the same): two in the B2B channel, one in a B2C channel; all three
    selected in the leads list, then Actions > Start Sales Process."""
    b2c = odoo.call("crm.team", "search", [("channel_type", "=", "b2c")], limit=1)[0]
    stamp = time.strftime("%H%M%S")
    leads = odoo.call(
        "crm.lead",
        "create",
        [
            {"name": f"Trade show {stamp}: Nordic Desks", "type": "lead", "team_id": team},
            {"name": f"Trade show {stamp}: Alpine Chairs", "type": "lead", "team_id": team},
            {"name": f"Trade show {stamp}: Home buyer", "type": "lead", "team_id": b2c},
        ],
    )
    browser.open(f"{url}/odoo/action-crm.crm_lead_all_leads", ".o_list_view .o_data_row")
    # searched as a user does: type in the search box, Enter
    browser.evaluate(
        "(() => { const input = document.querySelector('.o_searchview_input');"
        f" input.value = 'Trade show {stamp}'; input.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
    )
    browser.wait_for(".o_searchview_autocomplete")
    browser.evaluate(
        "document.querySelector('.o_searchview_input')"
        ".dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))"
    )
    browser.wait_until(f"document.querySelectorAll('.o_data_row').length === {len(leads)}")
    browser.click("thead .o_list_record_selector input")
    browser.wait_for(".o_cp_action_menus .fa-cog")
    browser.evaluate("document.querySelector('.o_cp_action_menus .fa-cog').closest('button').click()")
    browser.wait_for(".o-dropdown--menu .o_menu_item")
    label = odoo.call(
        "ir.actions.server",
        "read",
        [odoo.call("ir.model.data", "check_object_reference", "crm_sales_process", START_ACTION)[1]],
        ["name"],
        context={"lang": browser.lang or "en_US"},
    )[0]["name"]
    browser.evaluate(
        "[...document.querySelectorAll('.o-dropdown--menu .o_menu_item')]"
        f".find((item) => item.textContent.trim() === {json.dumps(label)}).click()"
    )
    browser.wait_for(".o_notification.o_sales_process_start_result")
    return leads


def take(url, db, login, password, out, lang=None):
    odoo = Odoo(url, db, login, password)
    if lang:
        print(f"Switching {login} to {lang} (installing its translations)...", flush=True)
        use_language(odoo, lang)
    browser = Browser()
    browser.lang = lang
    try:
        browser.send("Network.enable")
        browser.send("Network.setCookie", name="session_id", value=odoo.session_id, url=url)

        def record(name):
            return odoo.call("crm.lead", "search_read", [("name", "=", name)], ["id"], limit=1)[0]["id"]

        pipeline = f"{url}/odoo/action-crm.crm_lead_action_pipeline"
        browser.open(f"{pipeline}/{record('Meeting room upgrade')}", "button[name='action_sales_process_transition']")
        browser.shot(os.path.join(out, "screenshot_lead_in_process.png"))

        browser.open(
            f"{url}/odoo/action-crm.crm_lead_all_leads/{record('Office furniture for 40 desks')}",
            "button[name='action_sales_process_transition']",
        )
        qualify = odoo.call(
            "crm.sales.process.transition",
            "search_read",
            [("code", "=", "qualify")],
            ["name"],
            limit=1,
            context={"lang": lang or "en_US"},
        )[0]["name"]
        browser.evaluate(
            "[...document.querySelectorAll(\"button[name='action_sales_process_transition']\")]"
            f".find((b) => b.textContent.trim() === {json.dumps(qualify)}).click()"
        )
        browser.wait_for(".modal .o_field_widget[name=opportunity_name]")
        browser.shot(os.path.join(out, "screenshot_qualify_form.png"))

        browser.open(f"{url}/odoo/action-crm_sales_process.crm_sales_process_action", ".o_kanban_record")
        browser.shot(os.path.join(out, "screenshot_sales_process_kanban.png"))

        browser.open(pipeline, ".o_kanban_record .o_sales_process_step_badge")
        browser.shot(os.path.join(out, "screenshot_pipeline.png"))

        browser.open(f"{pipeline}/{record('Headquarters renovation')}", ".o_statusbar_status")
        browser.shot(os.path.join(out, "screenshot_won_read_only.png"))

        analysis = f"{url}/odoo/action-crm_sales_process.crm_sales_process_report_action"
        browser.open(analysis, ".o_pivot table .o_pivot_cell_value")
        browser.shot(os.path.join(out, "screenshot_analysis_pivot.png"))
        browser.open(f"{analysis}?view_type=sales_funnel", ".o_sales_funnel_bar")
        browser.shot(os.path.join(out, "screenshot_analysis_funnel.png"))
        browser.open(
            f"{url}/odoo/action-crm_sales_process.crm_sales_process_step_time_report_action",
            ".o_pivot table .o_pivot_cell_value",
        )
        browser.shot(os.path.join(out, "screenshot_time_in_step.png"))
        browser.open(
            f"{url}/odoo/action-crm_sales_process.crm_sales_process_journey_report_action",
            ".o_pivot table .o_pivot_cell_value",
        )
        browser.shot(os.path.join(out, "screenshot_deal_journeys.png"))

        # a step's activity plan: the developed opportunity lists its to-dos
        showroom = record("Showroom fit-out")
        browser.open(f"{pipeline}/{showroom}", ".alert[name=sales_process_guidance] [name=sales_process_activities]")
        browser.shot(os.path.join(out, "screenshot_activity_plan.png"))
        # a transition's email: its form says which email goes to whom
        close_as_won = transition_name(odoo, "close_as_won", lang)
        browser.evaluate(
            "[...document.querySelectorAll(\"button[name='action_sales_process_transition']\")]"
            f".find((b) => b.textContent.trim() === {json.dumps(close_as_won)}).click()"
        )
        browser.wait_for(".modal [name=transition_email] .o_field_widget[name=email_notice]")
        browser.shot(os.path.join(out, "screenshot_transition_email.png"))

        # a channel that starts a process for every new lead
        team = odoo.call("ir.model.data", "check_object_reference", "crm_sales_process", "demo_team_b2b")[1]
        browser.open(
            f"{url}/odoo/action-sales_team.crm_team_action_config/{team}",
            ".o_field_widget[name=sales_process_auto_start_lead]",
        )
        # ticked for the picture, then discarded: the demo's channel starts nothing by itself
        browser.click(".o_field_widget[name=sales_process_auto_start_lead] input")
        browser.wait_for(".o_form_button_cancel")
        browser.shot(os.path.join(out, "screenshot_channel_auto_start.png"))
        browser.click(".o_form_button_cancel")

        # the leads list's Start Sales Process: what started, what was skipped and why
        leads = start_list_action(browser, odoo, url, team)
        browser.shot(os.path.join(out, "screenshot_start_result.png"))
        # gone again: the demo's screens stay the same at the next run
        processes = odoo.call("crm.sales.process", "search", [("lead_id", "in", leads)])
        odoo.call("crm.sales.process", "unlink", processes)
        odoo.call("crm.lead", "unlink", leads)

        workflow = odoo.call("crm.sales.process.workflow", "search_read", [], ["id"], limit=1)[0]["id"]
        browser.open(
            f"{url}/odoo/action-crm_sales_process.crm_sales_process_workflow_action/{workflow}",
            ".o_field_widget[name=diagram] svg",
        )
        browser.shot(os.path.join(out, "screenshot_workflow.png"))

        # a step's activity plan, set in the workflow editor, and its dry run
        browser.click(".o_notebook a[name=steps]")
        browser.wait_for(".o_field_widget[name=step_ids] .o_data_row")
        browser.evaluate(
            "[...document.querySelectorAll('.o_field_widget[name=step_ids] .o_data_row')]"
            ".find((r) => r.textContent.includes('developed_opportunity')).querySelector('td.o_data_cell').click()"
        )
        browser.wait_for(".modal button[name=action_launch_activity_plan]")
        browser.shot(os.path.join(out, "screenshot_step_plan.png"))
        browser.click(".modal button[name=action_launch_activity_plan]")
        browser.wait_for(".modal .o_field_widget[name=summary]")
        browser.shot(os.path.join(out, "screenshot_plan_launch.png"))
        browser.evaluate(
            "document.querySelectorAll('.modal .modal-footer button.btn-secondary').forEach((b) => b.click())"
        )
        browser.wait_until("!document.querySelector('.modal .o_field_widget[name=summary]')")
    finally:
        browser.close()
        if lang:
            odoo.call("res.users", "write", [odoo.uid], {"lang": "en_US"})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="crm_sales_process_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=os.path.join(REPO, "static", "description"))
    parser.add_argument("--lang", help="the user's language for these screenshots, e.g. fr_FR (installed if needed)")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"Starting bin/demo on {url} (the demo database {args.db} is created if missing)...", flush=True)
    server = subprocess.Popen(
        ["bash", os.path.join(REPO, "bin", "demo"), args.db],
        env=dict(os.environ, PORT=str(port)),
        start_new_session=True,
    )
    try:
        for __ in range(600):
            try:
                urllib.request.urlopen(f"{url}/web/login", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("bin/demo stopped")
                time.sleep(0.5)
        print(f"Taking the screenshots with {CHROMIUM} into {os.path.relpath(args.out, REPO)}...", flush=True)
        take(url, args.db, args.login, args.password, args.out, args.lang)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


if __name__ == "__main__":
    main()
