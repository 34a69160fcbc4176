# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Create a database with the addon installed, showing which module Odoo is
loading (an install takes half a minute or more and is silent at --log-level=warn),
passing its warnings and errors through, and keeping the whole log."""

import re
import subprocess
import time

from common import MODULE, VENV, Progress, SetupError, duration, say

LOADING = re.compile(r"odoo\.modules\.loading: Loading module (\S+) \((\d+)/(\d+)\)")
PROBLEM = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ")


def create(db, addons_path, log_path, demo=False, strict=False):
    """Install the addon on a new database `db`. `strict`: a warning or
    error of the addon's own fails it (the addon must install cleanly)."""
    started = time.monotonic()
    say(f"Creating the database {db} with {MODULE}{' and its demo data' if demo else ''} (half a minute or more)...")
    command = [
        str(VENV / "bin" / "odoo"),
        f"--addons-path={addons_path}",
        "-d",
        db,
        "-i",
        MODULE,
        "--stop-after-init",
        "--http-interface=127.0.0.1",
        "--log-level=warn",
        "--log-handler=odoo.modules.loading:INFO",
        *(["--with-demo"] if demo else []),
    ]
    progress = Progress(every=5)
    problems = []
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            log.write(line)
            loading = LOADING.search(line)
            if loading:
                name, index, count = loading.groups()
                progress(f"  loading module {index}/{count}: {name}", force=name == MODULE)
            elif PROBLEM.match(line):
                problems.append(line.rstrip())
                say("  " + line.rstrip())
        status = process.wait()
    if status:
        raise SetupError(f"installing {MODULE} on {db} failed (exit {status}); the whole log is in {log_path}")
    own = [line for line in problems if MODULE in line or "crm.sales.process" in line]
    if strict and own:
        raise SetupError(
            f"installing {MODULE} logged {len(own)} warning(s) or error(s) of its own (above); log: {log_path}"
        )
    say(
        f"  {db} ready in {duration(time.monotonic() - started)}"
        + ("" if not strict else f", no warning of {MODULE}")
        + f" (log: {log_path})."
    )
