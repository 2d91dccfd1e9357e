"""Render Dockerfiles and collect build contexts; compute each image's content hash.

An image's content hash covers its rendered Dockerfile, every file of its build context and its
parent's hash, so a change anywhere up the chain changes the hash of exactly the images below it.
Hashes are computed from files alone, before any engine is contacted.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telemetry.catalog import Catalog
from telemetry.templating import TemplateError, make_environment, render

HASH_LABEL = "telemetry.content-hash"
PROJECT_SOURCE_DIR = "project"
# What of this repository goes into images that carry the project's own Python.
_PROJECT_FILES = ("setup.cfg", "pyproject.toml")
_PROJECT_TREE = "src/telemetry"
# setup.cfg names README.md as the long description; a fixed stub keeps README edits from
# rebuilding images.
_README_STUB = b"telemetry-deploy: see the project's README.\n"

_NAME_PLACEHOLDERS = {"namespace": "@namespace@", "tag": "@tag@", "parent_image": "@parent@",
                      "rootfs_image": "@rootfs@"}


@dataclass(frozen=True)
class ImageNames:
    namespace: str
    tag: str
    registry: str | None = None

    def reference(self, image: str) -> str:
        prefix = f"{self.registry}/" if self.registry else ""
        return f"{prefix}{self.namespace}/{image}:{self.tag}"


# Every image's last step: the list of what it has installed (SBOM-like), written where
# telemetry-build --list-images --packages and --check-updates read it.
PACKAGES_FILE = "/var/lib/telemetry/packages.tsv"
PACKAGES_STEP = (
    "\n# telemetry-build: the installed packages, read by --list-images --packages\n"
    "RUN mkdir -p /var/lib/telemetry && dpkg-query -W "
    "-f='${binary:Package}\\t${Version}\\n' > " + PACKAGES_FILE + "\n")


@dataclass
class RenderedImage:
    name: str
    parent: str | None
    template: Path
    dockerfile: str
    context: dict[str, bytes] = field(default_factory=dict)
    content_hash: str = ""

    def write_context(self, directory: Path) -> Path:
        """Write Dockerfile and context files into directory/<name>; return that directory."""
        target = directory / self.name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        (target / "Dockerfile").write_text(
            f"{self.dockerfile.rstrip()}\nLABEL {HASH_LABEL}={self.content_hash}\n")
        for relative, data in self.context.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if data.startswith(b"#!"):
                path.chmod(0o755)
        return target


def find_templates(images_dir: Path) -> dict[str, Path]:
    """Image name -> its Dockerfile.j2 (the name is the template's directory)."""
    found: dict[str, Path] = {}
    for template in sorted(images_dir.rglob("Dockerfile.j2")):
        name = template.parent.name
        if name in found:
            raise TemplateError(f"{template}: image {name} has a second template at {found[name]}")
        found[name] = template
    return found


def check_templates_match_catalog(catalog: Catalog, templates: Mapping[str, Path]) -> None:
    missing = sorted(set(catalog.images) - set(templates))
    extra = sorted(set(templates) - set(catalog.images))
    if missing:
        raise TemplateError(f"catalog images without a Dockerfile.j2 under kolla_images/: "
                            f"{missing}")
    if extra:
        raise TemplateError(f"Dockerfile.j2 templates not in the catalog's images: "
                            f"{[str(templates[n]) for n in extra]}")


class Renderer:
    """Renders the selected images in parent-first order, hashing as it goes."""

    def __init__(self, catalog: Catalog, root: Path, names: ImageNames,
                 variables: Mapping[str, Any], override: Path | None = None) -> None:
        self.catalog = catalog
        self.root = root
        self.images_dir = root / "kolla_images"
        self.names = names
        self.variables = dict(variables)
        self.override = override
        self.templates = find_templates(self.images_dir)
        check_templates_match_catalog(catalog, self.templates)
        search_path = [self.images_dir] + ([override.parent] if override else [])
        self.env = make_environment(search_path)

    def render_all(self, ordered_names: Iterable[str],
                   root_hashes: Mapping[str, str] | None = None) -> dict[str, RenderedImage]:
        """Render in order; root_hashes seeds the hash of the root image's own base (rootfs)."""
        rendered: dict[str, RenderedImage] = {}
        for name in ordered_names:
            parent = self.catalog.images[name].parent
            parent_hash = rendered[parent].content_hash if parent else (root_hashes or {}).get(
                name, "")
            rendered[name] = self.render_one(name, parent_hash)
        return rendered

    def render_one(self, name: str, parent_hash: str) -> RenderedImage:
        image = self.catalog.images[name]
        template = self.templates[name]
        relative = template.relative_to(self.images_dir).as_posix()
        variables = {
            **self.variables,
            "image_name": name,
            "image_block": name.replace("-", "_"),
            "parent_image": self.names.reference(image.parent) if image.parent else None,
            "users": self.catalog.users,
            "parent_template": relative,
        }
        entry = self.override.name if self.override else relative
        dockerfile = render(self.env, entry, variables) + PACKAGES_STEP
        # Hashed with the names left out: the parent is already in the hash through its own
        # hash, so the same content under another tag, namespace or registry is re-tagged
        # rather than rebuilt.
        hashed = render(self.env, entry, {**variables, **_NAME_PLACEHOLDERS}) + PACKAGES_STEP
        context = self._context(template.parent, image.extra_context, image.project_source)
        result = RenderedImage(name=name, parent=image.parent, template=template,
                               dockerfile=dockerfile, context=context)
        result.content_hash = content_hash(hashed, context, parent_hash)
        return result

    def _context(self, template_dir: Path, extra: Iterable[str],
                 project_source: bool) -> dict[str, bytes]:
        files = {p.relative_to(template_dir).as_posix(): p.read_bytes()
                 for p in sorted(template_dir.rglob("*"))
                 if p.is_file() and p.suffix != ".j2" and "__pycache__" not in p.parts}
        for relative in extra:
            source = self.root / relative
            if not source.is_file():
                raise TemplateError(f"extra_context file {relative} does not exist under "
                                    f"{self.root}")
            files[source.name] = source.read_bytes()
        if project_source:
            files.update(self._project_source())
        return files

    def _project_source(self) -> dict[str, bytes]:
        files = {f"{PROJECT_SOURCE_DIR}/{name}": (self.root / name).read_bytes()
                 for name in _PROJECT_FILES}
        files[f"{PROJECT_SOURCE_DIR}/README.md"] = _README_STUB
        for path in sorted((self.root / _PROJECT_TREE).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"{PROJECT_SOURCE_DIR}/{path.relative_to(self.root).as_posix()}"] = (
                    path.read_bytes())
        return files


def content_hash(dockerfile: str, context: Mapping[str, bytes], parent_hash: str) -> str:
    digest = hashlib.sha256()
    digest.update(b"parent\0" + parent_hash.encode() + b"\0")
    digest.update(b"dockerfile\0" + dockerfile.encode() + b"\0")
    for relative in sorted(context):
        digest.update(b"file\0" + relative.encode() + b"\0")
        digest.update(hashlib.sha256(context[relative]).digest())
    return digest.hexdigest()[:24]
