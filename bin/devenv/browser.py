# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Chromium for the browser tours and the screenshots. Odoo looks for it on
the PATH under these names and silently skips a tour without it, so the
commands find it first: on the PATH, or installed with apt when running as
root on Debian or Ubuntu, or they stop saying how to install it."""

import os
import shutil
import subprocess

from common import SetupError, say

NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")  # Odoo 19's order
HOW = (
    "Install Chromium or Google Chrome so that one of {names} is on the PATH "
    "(Debian: apt install chromium; Ubuntu: a chromium .deb or Google Chrome; Fedora: dnf install chromium), "
    "then run the command again."
)


def find():
    return next((path for path in map(shutil.which, NAMES) if path), None)


def os_release():
    try:
        with open("/etc/os-release") as handle:
            return dict(line.rstrip().split("=", 1) for line in handle if "=" in line)
    except OSError:
        return {}


def ensure():
    found = find()
    if found:
        say(f"Chromium: {found}.")
        return found
    release = os_release()
    debian = "debian" in release.get("ID", "") + " " + release.get("ID_LIKE", "")
    if not debian or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SetupError(f"no Chromium found: the browser tours need it. {HOW.format(names=', '.join(NAMES))}")
    # Ubuntu's own chromium package is a stub that installs a snap
    package = "chromium" if release.get("ID") == "debian" else "chromium-browser"
    say(f"Chromium is missing: installing the {package} package with apt (a few minutes the first time)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # without its recommends (systemd, avahi, cups...), with the fonts pages need
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package, "fonts-liberation"]
    for command in (["apt-get", "update", "-q"], install):
        say(f"  $ {' '.join(command)}")
        if subprocess.run(command, env=env, check=False).returncode:
            raise SetupError(f"'{' '.join(command)}' failed (output above). {HOW.format(names=', '.join(NAMES))}")
    found = find()
    if not found:
        raise SetupError(
            f"apt installed {package}, yet none of {', '.join(NAMES)} is on the PATH. "
            + HOW.format(names=", ".join(NAMES))
        )
    say(f"Chromium: {found}.")
    return found
