# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The checkout's Python environment: .venv with Odoo 19.0 from ODOO_SOURCE,
Odoo's pinned requirements, the set-up's own (requirements-dev.txt) and, for
the test suite, requirements-test.txt, installed with uv (or pip: see
installer.py). A source archive is unpacked into .venv/src and Odoo
installed from there in editable mode (pip install -e, as Odoo developers
do), which spares building and unpacking a 100 MB wheel of it.

A stamp in .venv records what went in (the Python, a fingerprint of the
Odoo source, a hash of each requirements file); a run redoes only the steps
whose input changed. Runs under the machine's python3, before .venv exists:
standard library only."""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import installer
from common import CACHE, REPO, VENV, Progress, SetupError, duration, say, sha256_file, sha256_text

NIGHTLY = "https://nightly.odoo.com/19.0/nightly/tgz/odoo_19.0.latest.tar.gz"
SERIES = "19.0"
PYTHONS = ((3, 10), (3, 13))  # those Odoo 19.0's requirements.txt pins packages for
STAMP = VENV / "crm_sales_process.stamp.json"
DEV_REQUIREMENTS = REPO / "requirements-dev.txt"
TEST_REQUIREMENTS = REPO / "requirements-test.txt"
CONSTRAINTS = installer.CONSTRAINTS
SOURCES = VENV / "src"  # where a source archive is unpacked, as pip puts editable checkouts
SHARED_ARCHIVE = REPO.parent / "shared" / "odoo" / "odoo-19.0-crm.tar.gz"  # this project's offline copy
OFFLINE_HINT = "Without network access, point ODOO_SOURCE at an Odoo 19.0 source folder or .tar.gz" + (
    f", e.g. ODOO_SOURCE={SHARED_ARCHIVE} bin/test"
    if SHARED_ARCHIVE.exists()
    else " (such as the nightly tarball downloaded on another machine): "
    "ODOO_SOURCE=/path/to/odoo_19.0.latest.tar.gz bin/test"
)


# -- the Odoo source -----------------------------------------------------


class Source:
    """ODOO_SOURCE: a source folder, a .tar.gz, or a URL of one (by default
    Odoo's nightly); `fingerprint` changes whenever its content does."""

    def __init__(self, spec):
        self.spec = spec
        if re.match(r"^https?://", spec):
            name = f"{sha256_text(spec)[:12]}-{spec.rstrip('/').rsplit('/', 1)[-1]}"
            self.path = CACHE / "downloads" / name
            if not self.path.exists() or os.environ.get("ODOO_REFRESH"):
                download(spec, self.path)
            self.fingerprint = "sha256:" + sha256_file(self.path)
        else:
            self.path = Path(spec).expanduser().resolve()
            if self.path.is_dir():
                self.fingerprint = "tree:" + tree_fingerprint(self.path)
            elif self.path.is_file():
                self.fingerprint = "sha256:" + sha256_file(self.path)
            else:
                raise SetupError(
                    f"ODOO_SOURCE={spec}: no such file or folder (nor an http(s) URL). "
                    f"Set it to an Odoo 19.0 source folder, .tar.gz or URL, or unset it to use {NIGHTLY}."
                )

    @property
    def label(self):
        return self.spec if self.spec == NIGHTLY or "://" in self.spec else str(self.path)

    @property
    def archive(self):
        return not self.path.is_dir()

    def unpacked(self, into):
        """The source folder (holding odoo/release.py): the folder itself, or
        the archive unpacked under `into`."""
        if not self.archive:
            return find_root(self.path, self.spec)
        say(f"Unpacking {self.path.name} ({self.path.stat().st_size / 1e6:.0f} MB)...")
        try:
            with tarfile.open(self.path) as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(into, filter="data")
                else:  # Python < 3.10.12: Odoo's own archive, trusted as pip would
                    archive.extractall(into)
        except (tarfile.TarError, OSError, EOFError) as error:
            raise SetupError(
                f"ODOO_SOURCE={self.spec} is not a readable .tar.gz ({error}). "
                "Point it at an Odoo 19.0 source folder or .tar.gz"
                + (" (ODOO_REFRESH=1 downloads it again)." if "://" in self.spec else ".")
            ) from error
        return find_root(Path(into), self.spec)


def download(url, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    progress = Progress(every=5)
    try:
        with urllib.request.urlopen(url, timeout=60) as answer, open(partial, "wb") as out:
            total = int(answer.headers.get("Content-Length") or 0)
            size = f"{total / 1e6:.0f} MB" if total else "size unknown"
            say(f"Downloading {url} ({size})...")
            done = 0
            for block in iter(lambda: answer.read(1 << 20), b""):
                out.write(block)
                done += len(block)
                if total:
                    progress(f"  {done / 1e6:.0f} of {total / 1e6:.0f} MB ({100 * done // total}%)")
                else:
                    progress(f"  {done / 1e6:.0f} MB")
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        reason = getattr(error, "reason", error)
        raise SetupError(f"cannot download {url} ({reason}). {OFFLINE_HINT}") from error
    partial.rename(path)
    say(f"  downloaded {path.stat().st_size / 1e6:.0f} MB into {path}")


def tree_fingerprint(folder):
    """Sizes and modification times of every file: cheap (a few thousand
    stat calls) and changes with any edit."""
    digest = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__", "build") and not d.endswith(".egg-info"))
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            digest.append(f"{os.path.relpath(os.path.join(root, name), folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return sha256_text(str(folder), *digest)


def find_root(folder, spec):
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if (candidate / "odoo" / "release.py").is_file() and (candidate / "setup.py").is_file():
            return candidate
    raise SetupError(
        f"ODOO_SOURCE={spec} holds no Odoo source (no setup.py beside odoo/release.py at its top "
        "or one folder below). Point it at an Odoo 19.0 source folder or .tar.gz."
    )


def read_series(root, spec):
    release = {}
    exec(compile((root / "odoo" / "release.py").read_text(), "release.py", "exec"), release)  # noqa: S102
    series = release.get("series")
    if series != SERIES:
        raise SetupError(
            f"ODOO_SOURCE={spec} is Odoo {series or 'of no known series'} "
            f"(odoo/release.py: version {release.get('version', '?')}), not {SERIES}: this addon "
            f"needs Odoo {SERIES} Community. Point ODOO_SOURCE at a {SERIES} source, or unset it "
            f"to download {NIGHTLY}."
        )
    return release.get("version", series)


def odoo_requirements(root, into):
    """Odoo's pinned requirements.txt, as this machine can install it:
    python-ldap (an optional extra, compiled against OpenLDAP) only when its
    headers are here; psycopg2 from the psycopg2-binary wheel of the same
    version (no compiling against libpq, which needs pg_config and takes a
    while)."""
    include = Path(sysconfig.get_config_var("INCLUDEDIR") or "/usr/include")
    has_ldap = any(
        (folder / "ldap.h").exists() and (folder / "sasl" / "sasl.h").exists()
        for folder in {include, Path("/usr/include")}
    )
    lines, notes = [], []
    for line in (root / "requirements.txt").read_text().splitlines():
        name = re.split(r"[<>=!~ ;\[]", line.strip(), maxsplit=1)[0].lower()
        if name == "python-ldap" and not has_ldap:
            notes.append("python-ldap left out (no OpenLDAP/SASL headers; only the auth_ldap addon uses it)")
            continue
        if name == "psycopg2":
            line = re.sub(r"^\s*psycopg2\b", "psycopg2-binary", line)
            notes.append("psycopg2 from its binary wheel, psycopg2-binary (the same version, nothing to compile)")
        lines.append(line)
    path = Path(into) / "odoo-requirements.txt"
    path.write_text("\n".join(lines) + "\n")
    for note in sorted(set(notes)):
        say(f"  {note}")
    return path


# -- the virtual environment ---------------------------------------------


def python_id():
    return f"{sys.version.split()[0]} {os.path.realpath(sys.executable)}"


def create_venv(venv=VENV):
    if venv.exists():
        shutil.rmtree(venv)
    say(f"Creating the virtual environment {venv} (Python {sys.version.split()[0]})...")
    try:
        # without pip: the installer adds it (ensurepip takes seconds)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as error:
        raise SetupError(
            f"python3 -m venv failed: {error.stderr.strip().splitlines()[-1] if error.stderr.strip() else error}. "
            "On Debian or Ubuntu: apt install python3-venv (python3.X-venv for your version)."
        ) from error


def check_python():
    low, high = PYTHONS
    if not low <= sys.version_info[:2] <= high:
        raise SetupError(
            f"Odoo {SERIES} needs Python {low[0]}.{low[1]} to {high[0]}.{high[1]}; "
            f"{sys.executable} is {sys.version.split()[0]}. Install one (e.g. apt install python3.12-venv) "
            "and run the command with PYTHON=python3.12."
        )


def ensure(with_tests):
    started = time.monotonic()
    check_python()
    stamp = json.loads(STAMP.read_text()) if STAMP.exists() else {}
    done = []

    def record(**values):
        stamp.update(values)
        STAMP.write_text(json.dumps(stamp, indent=1))

    if stamp.get("python") != python_id() or not (VENV / "bin" / "python").exists():
        if stamp:
            say(f"The Python changed ({stamp.get('python')} -> {python_id()}): rebuilding .venv.")
        create_venv()
        stamp = {}
        record(python=python_id())
        done.append("virtual environment")

    spec = os.environ.get("ODOO_SOURCE")
    dev_hash = sha256_text(DEV_REQUIREMENTS.read_text(), CONSTRAINTS.read_text())
    if not spec and stamp.get("odoo"):
        source = None  # the Odoo .venv was built from: ODOO_SOURCE changes it
    else:
        spec = spec or NIGHTLY
        source = Source(spec)
    if source and stamp.get("odoo") != source.fingerprint:
        if stamp.get("odoo"):
            say(f"The Odoo source changed (now {source.label}): installing it again.")
        CACHE.mkdir(exist_ok=True)
        installer.get_uv_ahead(VENV)
        shutil.rmtree(SOURCES, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="odoo-req-", dir=CACHE) as scratch:
            root = source.unpacked(SOURCES)
            version = read_series(root, spec)
            say(f"Odoo {version} source: {root if not source.archive else source.label}")
            requirements = odoo_requirements(root, scratch)
            # Odoo's setup.py asks for its requirements unpinned (psycopg2,
            # which is psycopg2-binary here, lxml_html_clean...): only the
            # pins of its requirements.txt go in, as with pip install --no-deps
            odoo = ["-e", str(root), "-C", "editable_mode=compat"] if source.archive else [str(root)]
            how = f"editable, from {root.relative_to(REPO)}" if source.archive else "a wheel built from it"
            installer.install(
                "-r",
                str(requirements),
                "-r",
                str(DEV_REQUIREMENTS),
                "pip",
                no_deps=odoo,
                pins=requirements,
                replaced=["psycopg2"],
                # cbor2 (which only Odoo's passkey login uses) without its
                # optional C extension, a switch of its own setup.py: the same
                # module in Python; compiling it was the longest step here
                build_env={"CBOR2_BUILD_C_EXTENSION": "0"},
                what=f"Installing Odoo {version} ({how}), its pinned requirements and requirements-dev.txt",
                venv=VENV,
            )
        addons = check_odoo()
        record(odoo=source.fingerprint, odoo_version=version, odoo_source=source.label, dev=dev_hash, addons=addons)
        done.append(f"Odoo {version}")
    elif stamp.get("dev") != dev_hash:
        installer.install("-r", str(DEV_REQUIREMENTS), what="requirements-dev.txt changed: installing it", venv=VENV)
        record(dev=dev_hash)
        done.append("requirements-dev.txt")

    if with_tests:
        test_hash = sha256_file(TEST_REQUIREMENTS)
        if stamp.get("test") != test_hash:
            installer.install(
                "-r", str(TEST_REQUIREMENTS), what="Installing the test tools of requirements-test.txt", venv=VENV
            )
            record(test=test_hash)
            done.append("test tools")

    what = f"Odoo {stamp['odoo_version']} from {stamp['odoo_source']}"
    if done:
        say(f"Set-up of .venv done in {duration(time.monotonic() - started)} ({', '.join(done)}): {what}.")
    else:
        say(f"Reusing .venv: {what}; source and requirements unchanged, nothing to redo.")
    if "addons" not in stamp:  # a .venv set up before the stamp recorded it
        record(addons=check_odoo())
    return stamp["addons"]


def check_odoo():
    """The installed Odoo imports and carries crm (the tarball's layout:
    standard addons inside odoo/addons)."""
    probe = subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-c",
            "import os, odoo.addons.crm as crm, odoo.release as r; print(r.series, os.path.dirname(crm.__path__[0]))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        raise SetupError(
            "the Odoo installed in .venv does not import with its crm addon "
            f"({probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else 'no output'}). "
            "ODOO_SOURCE must hold the standard addons (crm and its dependencies) inside odoo/addons, "
            "as Odoo's nightly source tarball does."
        )
    return probe.stdout.split()[-1]


LINT_VENV = REPO / ".venv-lint"
LINT_REQUIREMENTS = REPO / "requirements-lint.txt"


def ensure_lint():
    """.venv-lint with the linters of requirements-lint.txt: an environment
    of their own, as oca-odoo-pre-commit-hooks pins a polib that Odoo's
    requirements refuse (and the linters need no Odoo)."""
    check_python()
    stamp_path = LINT_VENV / "crm_sales_process.stamp.json"
    wanted = {"python": python_id(), "lint": sha256_file(LINT_REQUIREMENTS)}
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    if stamp == wanted:
        return
    if stamp.get("python") != wanted["python"] or not (LINT_VENV / "bin" / "python").exists():
        create_venv(LINT_VENV)
    installer.install(
        "-r", str(LINT_REQUIREMENTS), what="Installing the linters of requirements-lint.txt", venv=LINT_VENV
    )
    stamp_path.write_text(json.dumps(wanted, indent=1))
