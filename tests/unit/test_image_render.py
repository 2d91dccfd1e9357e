"""Every template renders; hashes are stable and change exactly where they must."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from telemetry.catalog import RELEASE_LABEL, load_catalog
from telemetry.image.render import ImageNames, Renderer, find_templates
from telemetry.image.tree import select_images
from telemetry.templating import TemplateError

VARIABLES = {"namespace": "telemetry", "tag": "test", "base_release": "bookworm",
             "openstack_release": "zed", "release_label": RELEASE_LABEL,
             "debian_mirror": "http://mirror.invalid/d",
             "debian_security_mirror": "http://mirror.invalid/s",
             "rootfs_image": "telemetry/base-rootfs:test"}
NAMES = ImageNames(namespace="telemetry", tag="test")


def render_tree(root: Path, override: Path | None = None) -> dict:
    catalog = load_catalog()
    order = select_images(catalog, [".*"], None)
    renderer = Renderer(catalog, root, NAMES, VARIABLES, override)
    return renderer.render_all(order, {"base": "rootfs-hash"})


@pytest.fixture
def tree_copy(tmp_path: Path, root: Path) -> Path:
    """A copy of the data the renderer reads, safe to edit."""
    copy = tmp_path / "checkout"
    shutil.copytree(root / "kolla_images", copy / "kolla_images")
    shutil.copytree(root / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy(root / name, copy / name)
    return copy


def test_every_catalog_image_renders_with_header_and_footer_blocks(root: Path) -> None:
    rendered = render_tree(root)
    assert set(rendered) == set(load_catalog().images)
    for name, image in rendered.items():
        source = image.template.read_text()
        block = name.replace("-", "_")
        assert f"{{% block {block}_header %}}{{% endblock %}}" in source, image.template
        assert f"{{% block {block}_footer %}}{{% endblock %}}" in source, image.template
        if image.parent:
            assert image.dockerfile.startswith(f"FROM telemetry/{image.parent}:test"), name


def test_templates_live_under_service_and_image_dirs(root: Path) -> None:
    for name, template in find_templates(root / "kolla_images").items():
        relative = template.relative_to(root / "kolla_images").parts
        assert relative[-2] == name
        assert len(relative) in (2, 3), template


def test_hashes_are_stable(root: Path) -> None:
    first = {n: i.content_hash for n, i in render_tree(root).items()}
    second = {n: i.content_hash for n, i in render_tree(root).items()}
    assert first == second
    assert len(set(first.values())) == len(first)


def test_hashes_do_not_depend_on_names(root: Path) -> None:
    catalog = load_catalog()
    order = select_images(catalog, [".*"], None)
    other = ImageNames(namespace="ops", tag="2023.1", registry="registry.local:5000")
    renamed = Renderer(catalog, root, other, {**VARIABLES, "namespace": "ops"}).render_all(
        order, {"base": "rootfs-hash"})
    plain = render_tree(root)
    assert renamed["gnocchi-api"].dockerfile.startswith(
        "FROM registry.local:5000/ops/gnocchi-base:2023.1")
    assert {n: i.content_hash for n, i in renamed.items()} == {
        n: i.content_hash for n, i in plain.items()}


def test_leaf_change_changes_only_that_leaf(tree_copy: Path) -> None:
    before = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    template = tree_copy / "kolla_images/gnocchi/gnocchi-metricd/Dockerfile.j2"
    template.write_text(template.read_text() + "# a change\n")
    after = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    assert [n for n in before if before[n] != after[n]] == ["gnocchi-metricd"]


def test_openstack_base_change_rebuilds_its_subtree_only(tree_copy: Path) -> None:
    before = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    template = tree_copy / "kolla_images/openstack-base/Dockerfile.j2"
    template.write_text(template.read_text() + "# a change\n")
    after = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    changed = {n for n in before if before[n] != after[n]}
    catalog = load_catalog()
    subtree = {n for n in catalog.images
               if n == "openstack-base" or "openstack-base" in _ancestors(catalog, n)}
    assert changed == subtree
    assert not changed & {"base", "mariadb", "rabbitmq", "memcached", "redis", "nginx", "snmpd"}


def test_project_source_change_rebuilds_images_that_carry_it(tree_copy: Path) -> None:
    before = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    module = tree_copy / "src/telemetry/paths.py"
    module.write_text(module.read_text() + "\n# a change\n")
    after = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"toolbox", "ceilometer-base", "ceilometer-central",
                       "ceilometer-notification", "ceilometer-compute"}


def test_runtime_script_change_rebuilds_everything(tree_copy: Path) -> None:
    before = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    script = tree_copy / "src/telemetry/runtime/set_configs.py"
    script.write_text(script.read_text() + "\n# a change\n")
    after = {n: i.content_hash for n, i in render_tree(tree_copy).items()}
    assert all(before[n] != after[n] for n in before)


def test_template_override_fills_blocks(root: Path, tmp_path: Path) -> None:
    override = tmp_path / "override.j2"
    override.write_text("{% extends parent_template %}\n"
                        "{% block redis_footer %}RUN echo overridden-redis{% endblock %}\n")
    plain = render_tree(root)
    overridden = render_tree(root, override)
    assert "RUN echo overridden-redis" in overridden["redis"].dockerfile
    assert "overridden-redis" not in plain["redis"].dockerfile
    changed = {n for n in plain if plain[n].content_hash != overridden[n].content_hash}
    assert changed == {"redis"}


def test_template_error_names_file_and_line(tree_copy: Path) -> None:
    template = tree_copy / "kolla_images/redis/redis/Dockerfile.j2"
    lines = template.read_text().splitlines()
    lines.insert(3, "RUN echo {{ no_such_variable }}")
    template.write_text("\n".join(lines) + "\n")
    with pytest.raises(TemplateError, match=r"redis/redis/Dockerfile.j2:4: .*no_such_variable"):
        render_tree(tree_copy)


def test_template_syntax_error_names_file_and_line(tree_copy: Path) -> None:
    template = tree_copy / "kolla_images/nginx/nginx/Dockerfile.j2"
    template.write_text(template.read_text() + "{% if %}\n")
    with pytest.raises(TemplateError, match=r"nginx/nginx/Dockerfile.j2:\d+: template syntax"):
        render_tree(tree_copy)


def test_sandbox_blocks_unsafe_attribute_access(tree_copy: Path) -> None:
    template = tree_copy / "kolla_images/memcached/memcached/Dockerfile.j2"
    template.write_text(template.read_text() + "{{ users.__class__.__mro__ }}\n")
    with pytest.raises(TemplateError):
        render_tree(tree_copy)


def _ancestors(catalog, name: str) -> list[str]:
    from telemetry.image.tree import ancestors
    return ancestors(catalog, name)
