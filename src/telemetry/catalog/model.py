"""The catalog's typed entries (see services.yml for what each field means)."""

from __future__ import annotations

from dataclasses import dataclass, field

from telemetry.common.errors import BadInput

# The label every image carries with the OpenStack release it was built for: upgrade reads it
# from what runs to know where a deployment stands.
RELEASE_LABEL = "telemetry.openstack-release"


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    home: str


@dataclass(frozen=True)
class Image:
    name: str
    parent: str | None
    project_source: bool = False
    extra_context: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigFile:
    src: str
    dest: str
    owner: str
    perm: str


@dataclass(frozen=True)
class Healthcheck:
    """``port`` is the number the check targets: the container's own port named by
    ``port_name``, or the first port of the ``peer`` service. An established check also counts
    a connection to ``frontend_ports`` (named ``frontend_port_names``): the listen ports of the
    load balancers in front of the peer, where clients may reach it instead (mariadb-proxy)."""

    type: str
    port: int
    port_name: str
    peer: str | None = None
    path: str = "/"
    protocol: str = "tcp"
    frontend_ports: tuple[int, ...] = ()
    frontend_port_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpgradeSteps:
    """What ``telemetry-ansible upgrade`` does to a container beyond its bootstrap (which
    re-runs whenever its image changes). ``drain`` and ``reset_state`` apply only when the
    OpenStack release changes; ``finalize`` once per image upgrade gives it."""

    # Run in the old container before it is replaced; waits until its work is handed on.
    drain: str | None = None
    # A path in its volumes emptied before the new release's container first starts.
    reset_state: str | None = None
    # Run in the new container once it is healthy (as root).
    finalize: str | None = None


@dataclass(frozen=True)
class Container:
    name: str
    service: str
    image: str
    user: str
    command: str
    group: str
    enabled: bool
    ports: dict[str, int] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    config_files: tuple[ConfigFile, ...] = ()
    volumes: tuple[str, ...] = ()
    network: str | None = None
    healthcheck: Healthcheck | None = None
    bootstrap: str | None = None
    upgrade: UpgradeSteps | None = None
    # Run in the running container before a deploy recreates it (new config or image): hands
    # on what only it holds, so stopping it costs nothing (the redis master's role).
    hand_over: str | None = None
    log_volumes: bool = False
    # The load balancer's: listen port name -> the container it balances.
    frontends: dict[str, str] = field(default_factory=dict)
    # A backend's: a regex of the paths whose POSTs store the same result when sent twice, so
    # a load balancer may resend them to another backend when one fails mid-request.
    idempotent_posts: str | None = None

    @property
    def enable_variable(self) -> str:
        """The switch that turns this container on or off (enable_gnocchi_api)."""
        return f"enable_{self.name.replace('-', '_')}"

    @property
    def variable_stem(self) -> str:
        """The container's name as a variable prefix (gnocchi-api -> gnocchi_api)."""
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Keystone:
    """A service's keystone registration: its user, and its catalog entry when it has a type."""

    user: str
    type: str | None = None
    description: str = ""
    # Keeps `admin` even with the keystone_service_role feature (the reason is in services.yml).
    needs_admin: bool = False


@dataclass(frozen=True)
class Service:
    name: str
    group: str
    enabled: bool
    depends_on: tuple[str, ...]
    containers: dict[str, Container]
    # Where the service's containers write log files when log_to_file is set (the images'
    # directory); the deploy mounts the `<service>_logs` volume there for logrotate to reach.
    log_dir: str | None = None
    databases: tuple[str, ...] = ()
    keystone: Keystone | None = None
    # Where the Ansible engine's clients reach it: the first host of its group, or every one.
    reached_at: str | None = None
    # How a deploy recreates its containers across its group's hosts: all at once, or one host
    # after the other, each healthy before the next (a cluster that must keep a majority).
    restart: str = "all_at_once"

    @property
    def logs_volume(self) -> str | None:
        return f"{self.name}_logs" if self.log_dir else None

    def first_port(self) -> tuple[str, int] | None:
        """(name, number) of the first port of its first container with ports: what a
        peer's healthcheck targets and what waits for this service probe."""
        for container in self.containers.values():
            for name, number in container.ports.items():
                return name, number
        return None


@dataclass(frozen=True)
class Release:
    """A Debian release images are built from, and the OpenStack release it ships."""

    name: str
    openstack: str
    # The releases a deployment may be upgraded from to this one, in one step.
    upgrade_from: tuple[str, ...] = ()
    # What this release adds that the deploy can use, each off by default: the variable
    # enable_<feature> turns it on, on this release only.
    features: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return self.openstack


@dataclass(frozen=True)
class Catalog:
    users: dict[str, User]
    images: dict[str, Image]
    profiles: dict[str, tuple[str, ...]]
    services: dict[str, Service]
    releases: dict[str, Release] = field(default_factory=dict)
    default_release: str = ""

    def release(self, name: str | None) -> Release:
        """The named release (the default when None), or BadInput listing the known ones."""
        wanted = name or self.default_release
        if wanted not in self.releases:
            raise BadInput(f"unknown base release {wanted!r}; known: "
                           f"{', '.join(self.releases)} (the catalog's releases)")
        return self.releases[wanted]

    def containers(self) -> list[Container]:
        return [c for s in self.services.values() for c in s.containers.values()]

    def features(self) -> list[str]:
        """Every release feature's name, each once, in the order the releases list them."""
        return list(dict.fromkeys(f for r in self.releases.values() for f in r.features))

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers() if c.name == name), None)
