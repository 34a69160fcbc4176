# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The set-up behind bin/demo, bin/test and the other commands (see
bin/_env.sh, which calls it):

    python3 bin/devenv venv [--test]          .venv with Odoo 19.0 (machine's python3); prints
                                              the folder of Odoo's standard addons
    python3 bin/devenv lint-venv              .venv-lint with the linters (bin/lint)
    .venv/bin/python bin/devenv pg-start PID  PostgreSQL; prints shell exports
    .venv/bin/python bin/devenv pg-stop PID   the embedded server, when PID was its last user
    .venv/bin/python bin/devenv pg-bin        where psql, dropdb... are
    .venv/bin/python bin/devenv replica-stop PID   bin/replica's replica: stopped, its slot and data gone
    .venv/bin/python bin/devenv chromium      Chromium on the PATH, installed if it can be
    .venv/bin/python bin/devenv create-db DB ADDONS_PATH LOG [--demo] [--strict]
    .venv/bin/python bin/devenv serve-new DB LOG ODOO_OPTION...   bin/demo's first run: Odoo
                                              creates DB with the demo data, then serves it

Each step prints its progress on stderr and exits with 1 and a message
naming the fix when it cannot go on."""

import argparse
import sys

from common import SetupError, say


def main():
    parser = argparse.ArgumentParser(
        prog="bin/devenv", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("venv").add_argument("--test", action="store_true")
    steps.add_parser("lint-venv")
    steps.add_parser("pg-start").add_argument("owner", type=int)
    steps.add_parser("pg-stop").add_argument("owner", type=int)
    steps.add_parser("pg-bin")
    steps.add_parser("replica-stop").add_argument("owner", type=int)
    steps.add_parser("chromium")
    create = steps.add_parser("create-db")
    for name in ("db", "addons_path", "log"):
        create.add_argument(name)
    create.add_argument("--demo", action="store_true")
    create.add_argument("--strict", action="store_true")
    serve = steps.add_parser("serve-new")
    serve.add_argument("db")
    serve.add_argument("log")
    serve.add_argument("options", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    try:
        if args.step == "venv":
            import environment

            print(environment.ensure(with_tests=args.test))
        elif args.step == "lint-venv":
            import environment

            environment.ensure_lint()
        elif args.step == "pg-bin":
            import postgres

            postgres.client_binaries()
        elif args.step == "replica-stop":
            import postgres

            postgres.stop_replica(args.owner)
        elif args.step in ("pg-start", "pg-stop"):
            import postgres

            (postgres.start if args.step == "pg-start" else postgres.stop)(args.owner)
        elif args.step == "chromium":
            import browser

            browser.ensure()
        elif args.step == "serve-new":
            import odoo_db

            sys.exit(odoo_db.serve_new(args.db, args.log, args.options))
        else:
            import odoo_db

            odoo_db.create(args.db, args.addons_path, args.log, demo=args.demo, strict=args.strict)
    except SetupError as error:
        say(f"error: {error}")
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
