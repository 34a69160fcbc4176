# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Installing packages into .venv and .venv-lint: with uv (Astral's
installer, a PyPI package), itself installed once with pip into
.cache/tools/uv; it installs Odoo's pins several times faster than pip
(parallel downloads and builds). With pip when uv cannot be installed, does
not run, fails, or CSP_INSTALLER=pip asks for it, saying so.

Both apply constraints.txt to the packages and to the builds of source
packages (UV_CONSTRAINT and UV_BUILD_CONSTRAINT; PIP_CONSTRAINT) and follow
their own settings otherwise (UV_CACHE_DIR, PIP_CACHE_DIR, XDG_CACHE_HOME,
indexes, proxies). Standard library only."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading

from common import CACHE, REPO, SetupError, say

UV = "uv==0.13.9"
UV_HOME = CACHE / "tools" / "uv"
CONSTRAINTS = REPO / "constraints.txt"
LOG = CACHE / "logs" / "install.log"
# the lines that show progress on the terminal (the rest goes to LOG)
UV_SHOWN = ("Resolved", "Prepared", "Installed", "Uninstalled", "Downloading", "Building", "Built", "warning", "error")
PIP_SHOWN = ("Collecting", "Downloading", "Building wheel for", "Installing collected", "Successfully installed")
OFFLINE_SIGNS = ("NewConnectionError", "Could not find a version", "Failed to fetch", "error sending request")

_uv = {}  # the uv found for this run (None: pip)
_getting = []  # the thread getting it, when started ahead


class InstallFailed(Exception):
    pass


class NoPip(InstallFailed):
    pass


NO_PIP = "No module named pip"


def install(*args, what, venv, no_deps=(), pins=None, replaced=(), build_env=()):
    """`pip install ARGS` into ``venv``, with uv or else pip; the output in
    .cache/logs/install.log, the lines that show progress on the terminal.
    ``no_deps``: more arguments, installed without the dependencies they
    declare beyond ARGS: pip installs them next with --no-deps; uv in the
    same run (its builds overlap the downloads), their dependencies held
    to the requirements file ``pins`` (markers included) and the names in
    ``replaced`` (which ``pins`` replaces by others) left out. ``build_env``:
    environment variables for the builds of source packages."""
    build_env = dict(build_env)
    uv = find_uv(venv)
    if uv:
        command = [str(uv), "pip", "install", "--python", str(venv / "bin" / "python"), *args, *no_deps]
        with tempfile.NamedTemporaryFile("w", prefix="uv-excludes-", suffix=".txt") as excludes:
            excludes.write("".join(f"{name}\n" for name in replaced))
            excludes.flush()
            command += ["--overrides", str(pins)] if pins else []
            command += ["--excludes", excludes.name] if replaced else []
            try:
                return run(
                    command,
                    what=f"{what} (uv)",
                    shown=UV_SHOWN,
                    env={"UV_CONSTRAINT": str(CONSTRAINTS), "UV_BUILD_CONSTRAINT": str(CONSTRAINTS), **build_env},
                )
            except InstallFailed as failure:
                say(f"  uv failed ({failure}): trying again with pip, which is slower.")
    ensure_pip(venv)
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    command += ["--progress-bar", "off"]
    # an environment variable, not -c: pip passes it on to build environments
    env = {"PIP_CONSTRAINT": str(CONSTRAINTS), **build_env}
    try:
        run([*command, *args], what=f"{what} (pip)", shown=PIP_SHOWN, env=env)
        if no_deps:
            run([*command, "--no-deps", *no_deps], what="  then, without dependencies", shown=PIP_SHOWN, env=env)
    except InstallFailed as failure:
        raise SetupError(f"pip failed: {what} ({failure}); the whole log is in {LOG}") from None


def get_uv_ahead(venv):
    """Start getting uv in the background (its download overlaps the
    unpacking of Odoo's source)."""
    thread = threading.Thread(target=_get_uv, args=(venv,), daemon=True)
    _getting.append(thread)
    thread.start()


def find_uv(venv):
    """uv in .cache/tools/uv, installed there with pip the first time; None
    (with a line saying so) when it cannot be had."""
    for thread in _getting:
        thread.join()
    if "uv" not in _uv:
        _get_uv(venv)
    return _uv["uv"]


def _get_uv(venv):
    _uv["uv"] = None
    if os.environ.get("CSP_INSTALLER", "").strip().lower() == "pip":
        say("Installing with pip, as CSP_INSTALLER=pip asks (uv is faster).")
        return None
    binary = UV_HOME / "bin" / "uv"
    marker = UV_HOME / "requirement.txt"
    if not (marker.is_file() and marker.read_text() == UV and runs(binary)):
        shutil.rmtree(UV_HOME, ignore_errors=True)
        command = ["install", "--target", str(UV_HOME), "--no-deps"]
        command += ["--disable-pip-version-check", "--progress-bar", "off", UV]
        what = f"Installing {UV} (the installer) into {UV_HOME.relative_to(REPO)} with pip, once"
        shown = ("Downloading", "Successfully installed")
        env = {"PIP_ROOT_USER_ACTION": "ignore"}
        try:
            try:  # the machine Python's pip, else the environment's, given one by ensurepip
                run([sys.executable, "-m", "pip", *command], what=what, shown=shown, env=env, quiet_if=NO_PIP)
            except NoPip:
                ensure_pip(venv)
                run([str(venv / "bin" / "python"), "-m", "pip", *command], what=what, shown=shown, env=env)
        except (InstallFailed, SetupError) as failure:
            say(f"  uv cannot be installed ({failure}): installing with pip instead, which is slower.")
            return None
        if not runs(binary):
            say(f"  the uv installed in {UV_HOME} does not run here: installing with pip instead, which is slower.")
            return None
        marker.write_text(UV)
    _uv["uv"] = binary
    return binary


def runs(binary):
    try:
        return subprocess.run([str(binary), "--version"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def ensure_pip(venv):
    python = str(venv / "bin" / "python")
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False).returncode == 0:
        return
    say(f"Adding pip to {venv.name} (ensurepip)...")
    result = subprocess.run([python, "-m", "ensurepip", "--default-pip"], capture_output=True, text=True, check=False)
    if result.returncode:
        raise SetupError(
            f"{venv.name} has no pip and ensurepip failed ({(result.stderr.strip().splitlines() or ['?'])[-1]}). "
            "On Debian or Ubuntu: apt install python3-venv (python3.X-venv for your version)."
        )


def run(command, what, shown, env, quiet_if=None):
    """Run an installer, its output in LOG and its progress lines on the
    terminal. ``quiet_if``: a line that means NoPip, raised silently."""
    say(f"{what}...")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(LOG, "a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, **env},
            )
        except OSError as error:
            raise InstallFailed(str(error)) from error
        tail = []
        for line in process.stdout:
            log.write(line)
            tail = (tail + [line.rstrip()])[-25:]
            if line.strip().startswith(shown):
                say("  " + line.strip().split(" (from ", 1)[0][:160])
        status = process.wait()
    if status and quiet_if and any(quiet_if in line for line in tail):
        raise NoPip(quiet_if)
    if status:
        say("\n".join(tail))
        offline = any(sign in line for line in tail for sign in OFFLINE_SIGNS)
        raise InstallFailed(
            f"exit {status}"
            + ("; the package index could not be reached: check the network or the proxy settings" if offline else "")
        )
