"""``resolve_buildpack``: each kind of ``--buildpack`` reference placed at
``<root>/<escaped id>/<version>/`` (directories as their layer holds them, archives, packages
from the store, an OCI layout and a .cnb file), builder ids, and refusals."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from buildpackage_rig import ONE, PACKAGE_META, PACKAGE_ONE, context, copy_fixtures, package

from lifecycle import client
from lifecycle.buildpack.fetch import parse_id, resolve_buildpack
from lifecycle.errors import UsageError


@pytest.fixture
def ctx(tmp_path: Path) -> client.Context:
    return context(tmp_path)


def test_directory_is_copied_as_its_layer(tmp_path: Path, ctx: client.Context) -> None:
    src = copy_fixtures(tmp_path / "src") / "bp-one"
    (src / "lib" / "alias.sh").symlink_to("helper.sh")
    (src / "__pycache__").mkdir()
    os.chmod(src / "lib" / "helper.sh", 0o600)
    r = resolve_buildpack(str(src), ctx, tmp_path / "bps")
    dest = tmp_path / "bps" / "test_one" / "1.0.0"
    assert (r.kind, r.id, r.version, r.dirs()) == ("directory", "test/one", "1.0.0", [dest])
    assert not (dest / "lib" / "alias.sh").is_symlink()
    assert (dest / "lib" / "alias.sh").read_text() == (ONE / "lib" / "helper.sh").read_text()
    assert not (dest / "__pycache__").exists()
    assert os.stat(dest / "lib" / "helper.sh").st_mode & 0o777 == 0o644
    assert os.access(dest / "bin" / "build", os.X_OK)
    assert r.buildpacks[0].descriptor.dir == dest and r.buildpacks[0].layer is None


def test_relative_directory_and_tgz(tmp_path: Path, ctx: client.Context) -> None:
    copy_fixtures(tmp_path)
    with tarfile.open(tmp_path / "two.tgz", "w:gz") as tf:
        tf.add(tmp_path / "bp-two", arcname=".")
    r = resolve_buildpack("bp-one", ctx, tmp_path / "bps", base=tmp_path)
    assert r.kind == "directory"
    r = resolve_buildpack("two.tgz", ctx, tmp_path / "bps", base=tmp_path)
    assert (r.kind, r.id) == ("archive", "test/two")
    assert (tmp_path / "bps" / "test_two" / "2.0.0" / "bin" / "build").is_file()
    assert not [p for p in (tmp_path / "bps").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("ref", ["unit/meta:1", "store:unit/meta:1", "oci:{tmp}/lay:m",
                                 "{tmp}/meta.cnb"])
def test_buildpackage_brings_all_its_buildpacks(tmp_path: Path, ctx: client.Context,
                                                ref: str) -> None:
    package("unit/meta:1", PACKAGE_META, ctx)
    client.copy_image("store:unit/meta:1", f"oci:{tmp_path}/lay:m", ctx)
    package(str(tmp_path / "meta.cnb"), PACKAGE_META, ctx, format="file")
    r = resolve_buildpack(ref.format(tmp=tmp_path), ctx, tmp_path / "bps")
    assert (r.kind, r.id, r.version) == ("package", "test/meta", "0.1.0")
    assert [(b.id, b.version) for b in r.buildpacks] == [
        ("test/meta", "0.1.0"), ("test/one", "1.0.0"), ("test/two", "2.0.0")]
    for b in r.buildpacks:
        assert b.dir == tmp_path / "bps" / b.id.replace("/", "_") / b.version
        assert (b.dir / "buildpack.toml").is_file()
        assert (b.layer is None) == ref.endswith(".cnb")
    assert (tmp_path / "bps" / "test_one" / "1.0.0" / "lib" / "helper.sh").is_file()
    assert sorted(p.name for p in (tmp_path / "bps").iterdir()) == [
        "test_meta", "test_one", "test_two"]


def test_references_share_one_root(tmp_path: Path, ctx: client.Context) -> None:
    package("unit/one:1", PACKAGE_ONE, ctx)
    a = resolve_buildpack("unit/one:1", ctx, tmp_path / "bps")
    b = resolve_buildpack(str(ONE), ctx, tmp_path / "bps")
    assert a.dirs() == b.dirs()


def test_builder_ids(tmp_path: Path, ctx: client.Context) -> None:
    builder = [("a/b", "1.0"), ("a/b", "2.0"), ("c/d", "3.0")]
    r = resolve_buildpack("urn:cnb:builder:c/d", ctx, tmp_path, builder=builder)
    assert (r.kind, r.id, r.version, r.buildpacks) == ("builder", "c/d", "3.0", ())
    assert resolve_buildpack("a/b@2.0", ctx, tmp_path, builder=builder).version == "2.0"
    assert resolve_buildpack("from=builder:a/b", ctx, tmp_path, builder=builder).version == ""
    assert parse_id("urn:cnb:builder:x/y@1") == ("x/y", "1")
    with pytest.raises(UsageError, match="is not on the builder"):
        resolve_buildpack("urn:cnb:builder:e/f", ctx, tmp_path, builder=builder)


@pytest.mark.parametrize(("ref", "needle"), [
    ("urn:cnb:registry:a/b@1", "buildpack registries and remote URLs are not supported"),
    ("https://example.com/bp.tgz", "buildpack registries and remote URLs are not supported"),
    ("nothing/here", "not a directory or file, not on the builder"),
])
def test_refusals(tmp_path: Path, ctx: client.Context, ref: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        resolve_buildpack(ref, ctx, tmp_path, base=tmp_path)
