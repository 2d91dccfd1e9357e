"""telemetry-k8s: the telemetry stack as Kubernetes resources, like kolla-kubernetes.

Thin: arguments in, telemetry.k8s.operations, lines out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from telemetry.common.errors import run_cli
from telemetry.k8s import operations
from telemetry.k8s.apply import DRY_RUN_MODES, Cluster, connect
from telemetry.k8s.podman_play.harness import Harness
from telemetry.k8s.podman_play.mapping import harness_variables
from telemetry.k8s.podman_play.plan import build_plan
from telemetry.k8s.podman_play.podman import Podman
from telemetry.k8s.registry import ALL, TYPES
from telemetry.k8s.validate import DEFAULT_VERSIONS, validate_all
from telemetry.k8s.variables import DEFAULT_PASSWORDS, VariablesError, parse_extra
from telemetry.paths import project_root

PROG = "telemetry-k8s"
ACTIONS = ("create", "delete", "template", "status", "validate")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_CLUSTER = 0, 1, 2, 3
DEFAULT_OVERRIDES = Path("/etc/telemetry/config")

DESCRIPTION = f"""\
Render the telemetry stack's Kubernetes resources from the service catalog (with the
exceptions of kubernetes/service_resources.yml) and the templates under services/, and create,
delete or inspect them on a cluster.

  {PROG} resource template all                  every resource as YAML (no cluster needed)
  {PROG} resource validate all                  ... checked against Kubernetes' schemas
  {PROG} resource create all                    apply in order, wait for Jobs and rollouts
  {PROG} resource create pod aodh               the aodh Deployments only
  {PROG} resource status bootstrap gnocchi      are gnocchi's Jobs complete?
  {PROG} resource delete all                    reverse order; PVCs stay (--include-pvcs)

types: {', '.join(TYPES)} or {ALL}; names: services, resource names, or {ALL} (the default).
"""

EPILOG = """\
exit codes:
  0  done (status: every resource present and ready; validate: every manifest valid)
  1  the cluster refused a request, a Job failed or a wait timed out; status: something is
     absent or not ready; validate: a manifest is invalid
  2  bad input: unknown action, type or name, a template error or missing variable, a
     missing password or passwords file (nothing was sent to the cluster)
  3  no cluster: no kubeconfig, or the API server cannot be reached
"""


def add_project_options(sub: argparse.ArgumentParser) -> None:
    """What a render reads: shared by `resource` and `harness`."""
    sub.add_argument("--passwords", type=Path, default=DEFAULT_PASSWORDS,
                     help=f"passwords file, as filled by telemetry-genpwd "
                          f"(default {DEFAULT_PASSWORDS})")
    sub.add_argument("--globals", type=Path, action="append", default=[], metavar="FILE",
                     help="variables overriding kubernetes/globals.yml (repeatable)")
    sub.add_argument("--config-overrides", type=Path, metavar="DIR",
                     help="Kolla-style per-file overrides (global.conf, <file>, <service>/<file>, "
                          "<service>/<container>/<file>), merged as telemetry-ansible merges "
                          f"them (default {DEFAULT_OVERRIDES} when it exists)")
    sub.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE",
                     help="one variable (YAML value), over everything else")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{resource,harness}")
    sub = commands.add_parser("resource", help="create|delete|template|status|validate "
                                               "<type> [<name>...]",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("action", choices=ACTIONS)
    sub.add_argument("type", nargs="?", default=ALL,
                     help=f"resource type: {', '.join(TYPES)} or {ALL} (default)")
    sub.add_argument("names", nargs="*", help="services or resource names (default: all)")
    sub.add_argument("--namespace", "-n", help="namespace (default: k8s_namespace, telemetry)")
    sub.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then "
                                          "~/.kube/config; in a pod, its service account)")
    sub.add_argument("--context", help="kubeconfig context (default: the current one)")
    sub.add_argument("--dry-run", choices=DRY_RUN_MODES, default="none",
                     help="client: print what would be sent, contact nothing; server: the "
                          "API server checks every request and persists nothing")
    sub.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml",
                     help="format of template and --dry-run=client output")
    sub.add_argument("--print-vars", action="store_true",
                     help="print the merged variables (passwords masked) and exit")
    add_project_options(sub)
    sub.add_argument("--timeout", type=float, default=600.0,
                     help="seconds to wait for each service's Jobs or rollouts (default 600)")
    sub.add_argument("--no-wait", action="store_true", help="create without waiting")
    sub.add_argument("--include-pvcs", action="store_true",
                     help="delete also deletes the PersistentVolumeClaims (the data)")
    sub.add_argument("--kube-version", action="append", default=[], metavar="X.Y",
                     help=f"validate against these versions (default "
                          f"{', '.join(DEFAULT_VERSIONS)}; repeatable)")
    harness = commands.add_parser(
        "harness", help="up|down: the rendered stack run by podman kube play (a local "
                        "stand-in for a cluster, not a cluster test)",
        description=HARNESS_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_argument("action", choices=("up", "down"))
    harness.add_argument("--namespace", "-n", help="namespace rendered (default: k8s_namespace, "
                                                   "telemetry); down removes every namespace's")
    add_project_options(harness)
    harness.add_argument("--publish-address", default="127.0.0.1",
                         help="host address the published Service's ports are bound on "
                              "(default 127.0.0.1)")
    harness.add_argument("--publish-service",
                         help="the Service published on the host (default: "
                              "loadbalancer_service_name, the nginx load balancer)")
    harness.add_argument("--timeout", type=float, default=300.0,
                         help="seconds each Job, play or readiness wait may take (default 300)")
    return parser


HARNESS_DESCRIPTION = f"""\
A local stand-in for a cluster, not a cluster test: run every rendered workload with
`podman kube play` on this host, in the registry's order. Each Job's pod runs to completion
(the harness runs it: podman has no Jobs), then each service's Deployments and DaemonSets are
played and awaited (readiness probes run with podman exec). Services become DNS aliases of the
pods they select on one podman network; Secrets become volumes the harness fills; only the load
balancer's ports are bound on the host (--publish-address). A second `up` changes nothing.

  {PROG} harness up --passwords FILE     bring the stack up (fails if a published port is taken)
  {PROG} harness down                    remove every pod, volume and network it created

exit codes: 0 done; 1 a Job failed, a pod did not get ready in --timeout, a published port is
taken or podman failed; 2 bad input (nothing was started).
"""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> Any:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _str_presenter)


def dump(documents: Sequence[dict[str, Any]], output: str, out: TextIO) -> None:
    if output == "json":
        json.dump({"apiVersion": "v1", "kind": "List", "items": list(documents)}, out,
                  indent=2)
        out.write("\n")
        return
    out.write(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, explicit_start=True,
                            width=100))


def load(args: argparse.Namespace, defaults: dict[str, Any] | None = None,
         ) -> operations.Project:
    overrides = args.config_overrides
    if overrides is None and DEFAULT_OVERRIDES.is_dir():
        overrides = DEFAULT_OVERRIDES
    elif overrides is not None and not overrides.is_dir():
        raise VariablesError(f"--config-overrides {overrides} is not a directory")
    extra = {**(defaults or {}), **parse_extra(args.extra_vars)}
    return operations.load_project(project_root(), args.passwords, args.globals, extra,
                                   args.namespace, overrides)


def run_harness(args: argparse.Namespace, out: TextIO) -> int:
    def progress(line: str) -> None:
        out.write(f"{line}\n")
        out.flush()

    harness = Harness(Podman(), progress, timeout=args.timeout)
    if args.action == "down":
        progress(harness.down().line())
        return EXIT_OK
    project = load(args, harness_variables())
    rendered = operations.render_selection(project, ALL, [ALL])
    service = args.publish_service or str(project.variables.values["loadbalancer_service_name"])
    plan = build_plan(rendered, project.namespace, service, args.publish_address)
    progress(harness.up(plan).line())
    return EXIT_OK


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def progress(line: str) -> None:
        err.write(f"{line}\n")
        err.flush()

    project = load(args)
    if args.print_vars:
        out.write(yaml.safe_dump(project.variables.public(), sort_keys=True))
        return EXIT_OK
    rendered = operations.render_selection(project, args.type, args.names)
    documents = operations.documents(rendered)
    if args.action == "template" or (args.action in ("create", "delete")
                                     and args.dry_run == "client"):
        dump(documents, args.output, out)
        if args.action != "template":
            progress(f"dry run (client): {len(documents)} resource(s) rendered, nothing sent")
        return EXIT_OK
    if args.action == "validate":
        versions = args.kube_version or list(DEFAULT_VERSIONS)
        problems = validate_all(documents, versions)
        for problem in problems:
            out.write(problem.line() + "\n")
        out.write(f"{len(documents)} manifest(s) x {len(versions)} version(s): "
                  f"{len(problems)} problem(s)\n")
        return EXIT_FAILED if problems else EXIT_OK
    cluster = Cluster(connect(args.kubeconfig, args.context), project.namespace,
                      dry_run=args.dry_run)
    if args.action == "status":
        rows = operations.status(cluster, rendered)
        width = max((len(f"{r.type}/{r.name}") for r in rows), default=10)
        for row in rows:
            out.write(f"{row.type + '/' + row.name:<{width}}  {row.kind:<22} {row.state}\n")
        return EXIT_OK if all(r.ready for r in rows) else EXIT_FAILED
    if args.action == "delete":
        operations.delete(cluster, rendered, args.include_pvcs, progress)
        return EXIT_OK
    report = operations.create(cluster, rendered, args.timeout, progress,
                               registry=project.registry, wait=not args.no_wait)
    failed = [label for w in report.waits for label in (*w.failed, *w.pending)]
    if failed:
        progress(f"create: not ready after {report.seconds:.1f}s: {', '.join(failed)}")
        return EXIT_FAILED
    progress(f"create: {len(report.outcomes)} request(s) in {report.seconds:.1f}s")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    # Exit codes live on the error classes (bad input 2, failed 1, no cluster 3).
    return run_cli(PROG, lambda: (run_harness(args, out) if args.command == "harness"
                                  else run(args, out, err)), err)


if __name__ == "__main__":
    sys.exit(main())
