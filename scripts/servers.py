# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Odoo prefork servers for bin/load and bin/faults: started on 127.0.0.1 on
free ports, each in a process group of its own (the master, its HTTP and cron
workers and its gevent child), stopped as an administrator would (SIGTERM:
Odoo lets its workers finish their request), or forced (a second SIGTERM:
Odoo kills its workers at once), and in any case killed when the command
ends. Each server writes its group id in LOG.pid, so that the bash command
around it can still kill it if this Python process itself is killed."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ODOO = Path(sys.prefix) / "bin" / "odoo"  # a prefork server re-spawns its gevent child through sys.argv[0]
LOG_HANDLERS = (
    # muted: the deprecation notice /xmlrpc/2 logs on every call; shown: the
    # retries of calls that hit a serialization conflict (load.py counts
    # them) and the start and end of each cron job
    "odoo.addons.rpc.controllers.xmlrpc:ERROR",
    "odoo.service.model:INFO",
    "odoo.addons.base.models.ir_cron:INFO",
)


def free_port(taken=()):
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port


class OdooServer:
    """One prefork server on the database `db`."""

    def __init__(
        self,
        name,
        db,
        addons_path,
        logdir,
        workers=4,
        cron_threads=0,
        log_handlers=(),
        preload=True,
        taken=(),
        options=(),
    ):
        self.name, self.db, self.addons_path, self.preload = name, db, addons_path, preload
        self.options = tuple(options)  # more command-line options, e.g. --db_replica_host=...
        self.workers, self.cron_threads = workers, cron_threads
        self.log_handlers = (*LOG_HANDLERS, *log_handlers)
        self.http_port = free_port(taken)
        self.gevent_port = free_port({*taken, self.http_port})
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log = Path(logdir) / f"{db}.{name}.log"
        self.out = self.log.with_suffix(".out")  # what the server and its children print outside the log
        self.pidfile = self.log.with_suffix(".pid")
        self.process = None
        self.starts = 0

    def __str__(self):
        return f"{self.name} ({self.url}, {self.workers} workers, {self.cron_threads} cron)"

    def start(self, timeout=120):
        command = [
            str(ODOO),
            f"--addons-path={self.addons_path}",
            *(["-d", self.db] if self.preload else []),
            f"--db-filter=^{self.db}$",
            f"--workers={self.workers}",
            f"--max-cron-threads={self.cron_threads}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--gevent-port={self.gevent_port}",
            "--log-level=warn",
            f"--logfile={self.log}",
            *(f"--log-handler={h}" for h in self.log_handlers),
            *self.options,
        ]
        with open(self.out, "a") as out:
            # a group of its own: Ctrl-C on the terminal reaches this script,
            # which stops the server in order, not every process at once
            self.process = psutil.Popen(
                command, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pidfile.write_text(str(self.process.pid))
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} stopped at its start (exit {self.process.returncode}); see {self.log} and {self.out}"
                )
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.url}/web/login", timeout=5).close()
                return self
            time.sleep(0.5)
        raise RuntimeError(f"{self.name}: no answer on {self.url}/web/login after {timeout} s; see {self.log}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def children(self, kind):
        """Pids of the master's workers of a kind, "http" or "cron". Without
        the optional setproctitle they all bear the master's command line:
        an HTTP worker is one that holds the listening socket (a cron worker
        closes it; the gevent child is started with "gevent")."""
        if not self.alive():
            return []
        found = []
        for child in self.process.children():
            with contextlib.suppress(psutil.Error):
                if "gevent" in child.cmdline():
                    continue
                listening = any(
                    c.status == psutil.CONN_LISTEN and c.laddr.port == self.http_port
                    for c in child.connections(kind="tcp")
                )
                if listening == (kind == "http"):
                    found.append(child.pid)
        return found

    def group(self):
        """Every live process of the server's group (its workers included,
        also after the master has died)."""
        if self.process is None:
            return []
        members = []
        for proc in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error, OSError):
                if os.getpgid(proc.pid) == self.process.pid:
                    members.append(proc.pid)
        return members

    def stop(self, forced=False, timeout=60):
        """SIGTERM: Odoo stops accepting, lets each worker finish its request
        or cron job, then exits. forced: a second SIGTERM one second later,
        on which Odoo kills its workers at once (what a second Ctrl-C does).
        Whatever is still alive after `timeout` seconds is killed. Returns
        (seconds the stop took, pids that had to be killed)."""
        begin = time.monotonic()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            if forced:
                with contextlib.suppress(psutil.TimeoutExpired):
                    self.process.wait(1)
                if self.alive():
                    self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(psutil.TimeoutExpired):
                self.process.wait(timeout)
        # the master gone, its workers may take a moment to die
        deadline = time.monotonic() + 5
        while self.process and time.monotonic() < deadline and self.group():
            time.sleep(0.1)
        left = self.group()
        self.kill()
        return time.monotonic() - begin, left

    def kill(self):
        """SIGKILL to whatever is left of the server's group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.Error, ChildProcessError):
            self.process.wait(10)
        self.pidfile.unlink(missing_ok=True)


@contextlib.contextmanager
def running(servers):
    """Start the servers (in turn: each loads the registry on two cores),
    stop them at the end, on failure and on Ctrl-C too."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        for server in servers:
            print(f"Starting Odoo {server} (log: {server.log})...", flush=True)
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop(timeout=30)
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(143)


def crashes(server):
    """What a server's children printed outside the log: the gevent worker
    (websocket, unused by XML-RPC) is re-spawned whenever it dies."""
    if not server.out.exists():
        return 0, ""
    lines = server.out.read_text(errors="replace").splitlines()
    last = [line for line in lines if line[:1].isalpha() and ("Error" in line or "Exception" in line)]
    return sum(line.startswith("Traceback") for line in lines), (last[-1] if last else "")
