# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""What every part of the set-up shares. Standard library only: the first
step runs under whatever python3 the machine has, before .venv exists."""

import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
VENV = REPO / ".venv"
MODULE = "crm_sales_process"


class SetupError(Exception):
    """A set-up step that cannot go on; the message says what to do about it."""


def say(message):
    # stdout carries the shell exports that bin/_env.sh evaluates; one
    # write, so that the lines of two threads do not mix
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(*texts):
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def duration(seconds):
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Prints a long step's progress at most every few seconds, so that a
    log (CI, a pipe) stays short and a terminal still shows it moving."""

    def __init__(self, every=3.0):
        self.every = every
        self.last = 0.0

    def __call__(self, message, force=False):
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            say(message)
