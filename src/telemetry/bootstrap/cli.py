"""Command line: parse arguments, load the spec, run one task, print its report.

Report lines and the summary go to stdout (with --format json, one JSON object and nothing
else); progress while waiting and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TextIO

from telemetry.bootstrap import database, gnocchi, keystone, waithttp
from telemetry.bootstrap.errors import (
    EXIT_BAD_SPEC,
    EXIT_FAILED,
    EXIT_OK,
    BootstrapError,
    SpecError,
)
from telemetry.bootstrap.report import TaskResult
from telemetry.bootstrap.retry import Progress
from telemetry.bootstrap.spec import Section, load

PROG = "python3 -m telemetry.bootstrap"
Runner = Callable[[Section, Progress], TaskResult]

TASKS: dict[str, tuple[Runner, str]] = {
    "database": (database.run, "databases, users and grants on MariaDB (section database)"),
    "keystone": (keystone.run, "service project, admin role, service users, services and "
                               "endpoints (sections auth, keystone)"),
    "gnocchi-archive-policies": (gnocchi.run, "archive policies and archive-policy rules "
                                              "(sections auth, gnocchi)"),
    "wait-http": (waithttp.run, "wait until a URL answers with a status < 500 "
                                "(section wait_http, or --url)"),
}

DESCRIPTION = "Bootstrap one-shots: idempotent, each reads its sections of a YAML spec."

EPILOG = """\
exit codes:
  0  done (whether or not anything changed; the last line says which)
  1  the task failed (a service refused, answered an error or never answered)
  2  bad spec or usage (the message names the missing or wrong field)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_SPEC, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK",
                                  parser_class=_Parser)
    for name, (_, help_text) in TASKS.items():
        sub = tasks.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        required = name != "wait-http"
        sub.add_argument("--spec", metavar="FILE", required=required,
                         help="YAML spec rendered by the deployment (holds secrets)")
        sub.add_argument("--format", choices=("text", "json"), default="text",
                         help="report as lines (default) or as one JSON object")
        if name == "wait-http":
            sub.add_argument("--url", help="URL to wait for (instead of wait_http.url)")
            sub.add_argument("--timeout", type=float, help="seconds in all (default 300)")
            sub.add_argument("--interval", type=float, help="seconds between attempts")
    return parser


def _wait_http_root(args: argparse.Namespace) -> Section:
    """wait-http takes a spec, --url, or both (the options override the spec's values)."""
    if not args.spec and not args.url:
        raise SpecError("wait-http needs --spec FILE or --url URL")
    root = load(args.spec) if args.spec else Section({}, "")
    overrides = {key: getattr(args, key) for key in ("url", "timeout", "interval")
                 if getattr(args, key) is not None}
    if not overrides:
        return root
    section = dict(root.section("wait_http", Section({}, "wait_http")).data)
    section.update(overrides)
    return Section({**root.data, "wait_http": section}, "")


def _print_result(result: TaskResult, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(result.as_dict(), out, indent=None, sort_keys=True)
        out.write("\n")
        return
    for change in result.changes:
        out.write(change.line() + "\n")
    out.write(result.summary() + "\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    runner, _ = TASKS[args.task]

    def progress(line: str) -> None:
        err.write(f"{args.task}: {line}\n")
        err.flush()

    try:
        root = _wait_http_root(args) if args.task == "wait-http" else load(args.spec)
        result = runner(root, progress)
    except BootstrapError as exc:
        partial = exc.partial
        if isinstance(partial, TaskResult) and partial.changes:
            if args.format == "text":
                for change in partial.changes:
                    out.write(change.line() + "\n")
            else:
                json.dump({**partial.as_dict(), "error": str(exc)}, out, sort_keys=True)
                out.write("\n")
        kind = "bad spec" if exc.exit_code == EXIT_BAD_SPEC else "failed"
        err.write(f"{args.task}: {kind}: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write(f"{args.task}: interrupted\n")
        return EXIT_FAILED
    except Exception:  # a bug, not a reported failure: keep the traceback
        err.write(f"{args.task}: failed with an unexpected error:\n")
        traceback.print_exc(file=err)
        return EXIT_FAILED
    _print_result(result, args.format, out)
    out.flush()
    if result.drift:
        err.write(f"{args.task}: warning: {len(result.drift)} difference(s) from the spec "
                  "that cannot be changed in place (lines marked drift)\n")
    return EXIT_OK
