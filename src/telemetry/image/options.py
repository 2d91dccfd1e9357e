"""telemetry-build's options (oslo.config): CLI, environment, /etc/telemetry/telemetry-build.conf.

``oslo-config-generator --namespace telemetry.build`` writes the sample from :func:`list_opts`.
"""

from __future__ import annotations

from oslo_config import cfg

# The engine client owns its default (telemetry.common must not import this package).
from telemetry.common.engine import DEFAULT_ENGINE_URL

_CLI_OPTS = [
    cfg.MultiStrOpt("regex", positional=True, required=False, default=[],
                    help="Build only images whose name matches one of these regular expressions "
                         "(their ancestors are pulled in)."),
    cfg.StrOpt("profile", short="p",
               help="Build a named list of images from the catalog's profiles "
                    "(infra, telemetry, default)."),
    cfg.BoolOpt("list-images", short="l", default=False,
                help="List the selected images with their parent and content hash, then exit."),
    cfg.BoolOpt("list-dependencies", short="d", default=False,
                help="Print the selected images as a JSON tree of parents and children, "
                     "then exit."),
    cfg.BoolOpt("template-only", default=False,
                help="Render Dockerfiles and build contexts into --work-dir and stop."),
    cfg.BoolOpt("force", default=False,
                help="Rebuild selected images, without the engine's layer cache, even when one "
                     "with the same content hash exists."),
    cfg.BoolOpt("push", default=False, help="Push built images to --registry."),
    cfg.BoolOpt("packages", default=False,
                help="With --list-images: also print each built image's installed packages "
                     "(the list every image carries)."),
    cfg.BoolOpt("check-updates", default=False,
                help="List, per built image, the packages the mirror has newer versions of "
                     "(security updates marked), then exit. Changes nothing."),
    cfg.BoolOpt("refresh", default=False,
                help="Rebuild exactly the images that have pending package updates, and their "
                     "children, without the layer cache; skip the rest as usual."),
]

_OPTS = [
    cfg.IntOpt("threads", short="T", default=4, min=1,
               help="Images built at the same time (a child starts once its parent is built)."),
    cfg.IntOpt("retries", short="r", default=1, min=0,
               help="Times to retry a failed image build before giving up on it."),
    cfg.StrOpt("work-dir", help="Where rendered Dockerfiles and contexts go "
                                "(default: a temporary directory removed after the build)."),
    cfg.StrOpt("template-override",
               help="A Jinja file that extends the variable parent_template (its first line "
                    "is: extends parent_template, in a Jinja tag) and fills the "
                    "<image>_header / <image>_footer blocks of any image."),
    cfg.StrOpt("base-release",
               help="Debian release the images are built from: one of the catalog's releases "
                    "(bookworm: OpenStack Zed, trixie: OpenStack 2025.1). Default: the "
                    "catalog's default_release."),
    cfg.StrOpt("tag", help="Tag given to every image. Default: the OpenStack release of "
                           "--base-release (zed, 2025.1), so both sets live side by side."),
    cfg.StrOpt("namespace", default="telemetry", help="Image namespace: <namespace>/<image>."),
    cfg.StrOpt("registry", help="Registry host[:port] prefixed to image names; used by --push."),
    cfg.StrOpt("logs-dir", default="build-logs",
               help="One build log per image is written here (<image>.log)."),
    cfg.BoolOpt("insecure-registry", default=False,
                help="Push over plain HTTP. Implied for registries on a loopback address, as "
                     "Docker does."),
    cfg.StrOpt("summary-json-file", help="Write the build summary as JSON to this file."),
    cfg.StrOpt("engine-url", default=DEFAULT_ENGINE_URL,
               help="Docker API URL of the container engine. The default is podman's "
                    "Docker-compatible socket, started when absent; a Docker socket "
                    "(unix:///var/run/docker.sock) works too."),
    cfg.StrOpt("debian-mirror",
               help="Debian mirror URL for debootstrap and the images' apt sources "
                    "(default: taken from the host's apt configuration)."),
    cfg.StrOpt("debian-security-mirror",
               help="Debian security mirror URL (default: from the host's apt configuration)."),
    cfg.IntOpt("timeout", default=3600, help="Seconds a single image build may take."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_cli_opts(_CLI_OPTS)
    conf.register_cli_opts(_OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(None, _OPTS)]
