# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Create a database with the addon installed, showing which module Odoo is
loading (an install takes half a minute or more and is silent at --log-level=warn),
passing its warnings and errors through, and keeping the whole log:
`create` for the commands that then run their own Odoo (an install with
--stop-after-init), `serve_new` for bin/demo, where the Odoo that installs
the database goes on to serve it (one start of Odoo instead of two)."""

import re
import signal
import subprocess
import sys
import time

from common import MODULE, VENV, Progress, SetupError, duration, say

LOADING = re.compile(r"odoo\.modules\.loading: Loading module (\S+) \((\d+)/(\d+)\)")
LOADING_INFO = re.compile(r"^\S+ \S+ \d+ INFO \S+ odoo\.modules\.loading: ")
LOADED = re.compile(r"odoo\.modules\.loading: Modules loaded\.")
PROBLEM = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ")


class Install:
    """Odoo's output while it installs the addon on a new database: every
    line into the log, the module being loaded every few seconds and the
    warnings and errors on the terminal."""

    def __init__(self, db, log, demo):
        self.db = db
        self.log = log
        self.started = time.monotonic()
        self.progress = Progress(every=5)
        self.problems = []
        what = f"{MODULE} and its demo data" if demo else MODULE
        say(f"Creating the database {db} with {what} (half a minute or more)...")

    def line(self, line):
        self.log.write(line)
        loading = LOADING.search(line)
        if loading:
            name, index, count = loading.groups()
            self.progress(f"  loading module {index}/{count}: {name}", force=name == MODULE)
        elif PROBLEM.match(line):
            self.problems.append(line.rstrip())
            say("  " + line.rstrip())

    def done(self, strict=False):
        own = [line for line in self.problems if MODULE in line or "crm.sales.process" in line]
        if strict and own:
            raise SetupError(
                f"installing {MODULE} logged {len(own)} warning(s) or error(s) of its own (above); log: {self.log.name}"
            )
        say(
            f"  {self.db} ready in {duration(time.monotonic() - self.started)}"
            + ("" if not strict else f", no warning of {MODULE}")
            + f" (log: {self.log.name})."
        )


def odoo_install_command(db, demo, *options):
    return [
        str(VENV / "bin" / "odoo"),
        "-d",
        db,
        "-i",
        MODULE,
        *(["--with-demo"] if demo else []),
        *options,
        "--log-level=warn",
        "--log-handler=odoo.modules.loading:INFO",
    ]


def create(db, addons_path, log_path, demo=False, strict=False):
    """Install the addon on a new database `db`. `strict`: a warning or
    error of the addon's own fails it (the addon must install cleanly)."""
    command = odoo_install_command(
        db, demo, f"--addons-path={addons_path}", "--stop-after-init", "--http-interface=127.0.0.1"
    )
    with open(log_path, "w") as log:
        install = Install(db, log, demo)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            install.line(line)
        status = process.wait()
        if status:
            raise SetupError(f"installing {MODULE} on {db} failed (exit {status}); the whole log is in {log_path}")
        install.done(strict)


def serve_new(db, log_path, options):
    """Run Odoo with `options` (addons path, HTTP...) on a new database
    `db`, which it creates with the addon and its demo data, then serves
    (requests wait for the install). Its output shows as `create` shows it,
    then as it comes, less the lines of the module loader. Stops Odoo on
    SIGTERM (a graceful shutdown), returns its exit status."""
    process = subprocess.Popen(
        odoo_install_command(db, True, *options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: process.send_signal(signal.SIGINT))
    with open(log_path, "w") as log:
        install = Install(db, log, demo=True)
        for line in process.stdout:
            if install:
                install.line(line)
                if LOADED.search(line):
                    install.done()
                    install = None
            elif not LOADING_INFO.match(line):
                sys.stderr.write(line)
    status = process.wait()
    if install:
        say(f"Odoo stopped (exit {status}) before {db} was ready; the whole log is in {log_path}")
    return status
