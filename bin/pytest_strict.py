# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""pytest plugin of bin/test (-p pytest_strict).

Odoo skips browser tours when Chromium or websocket-client is missing, and
pytest-odoo skips HttpCase tests without --odoo-http: a skipped test fails
the run, so that a suite that did not run cannot pass."""


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; this suite must run them all "
            "(Chromium and websocket-client installed, pytest run with --odoo-http).",
            red=True,
        )
        session.exitstatus = 1
