"""builder.toml's ``[lifecycle] uri``: a lifecycle release tarball becomes /cnb/lifecycle and
the builder's lifecycle labels (lifecycle.builder.golifecycle, builder.create)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from lifecycle.builder import golifecycle
from lifecycle.errors import FileFormatError

LIFECYCLE_TOML = b"""[apis]
[apis.buildpack]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"]
[apis.platform]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"]

[lifecycle]
  version = "0.99.1"
"""


def release(path: Path, extra: list[tarfile.TarInfo] | None = None) -> Path:
    """A fake release: lifecycle/{lifecycle, launcher, lifecycle.toml, detector -> lifecycle}."""
    with tarfile.open(path, "w:gz") as tf:
        def add(name: str, data: bytes, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tf.addfile(info, io.BytesIO(data))
        d = tarfile.TarInfo("lifecycle")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(d)
        add("lifecycle/lifecycle", b"#!/bin/sh\necho go lifecycle \"$0\"\n")
        add("lifecycle/launcher", b"#!/bin/sh\necho launcher\n")
        add("lifecycle/lifecycle.toml", LIFECYCLE_TOML, 0o644)
        link = tarfile.TarInfo("lifecycle/detector")
        link.type, link.linkname = tarfile.SYMTYPE, "lifecycle"
        tf.addfile(link)
        for info in extra or ():
            tf.addfile(info)
    return path


def test_read_gives_entries_and_descriptor(tmp_path: Path) -> None:
    life, entries = golifecycle.read(release(tmp_path / "l.tgz"))
    assert life.version == "0.99.1" and life.platform_supported[-1] == "0.15"
    got = {(e.path, e.kind, e.mode, e.link) for e in entries}
    assert ("cnb/lifecycle/lifecycle", "file", 0o755, "") in got
    assert ("cnb/lifecycle/lifecycle.toml", "file", 0o644, "") in got
    assert ("cnb/lifecycle/detector", "symlink", 0o777, "lifecycle") in got
    assert ("lifecycle", "symlink", 0o777, "/cnb/lifecycle") in got
    assert entries[0].path == "cnb/lifecycle"


@pytest.mark.parametrize("name,kind,link,message", [
    ("etc/passwd", tarfile.REGTYPE, "", "is not under lifecycle/"),
    ("lifecycle/evil", tarfile.SYMTYPE, "../../etc/shadow", "leaves lifecycle/"),
    ("lifecycle/abs", tarfile.SYMTYPE, "/bin/sh", "leaves lifecycle/"),
    ("lifecycle/dev", tarfile.CHRTYPE, "", "only files, directories and links"),
])
def test_refuses_what_is_not_a_lifecycle(tmp_path: Path, name: str, kind: bytes, link: str,
                                         message: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    with pytest.raises(FileFormatError, match=message):
        golifecycle.read(release(tmp_path / "l.tgz", [info]))


def test_locate(tmp_path: Path) -> None:
    tgz = release(tmp_path / "l.tgz")
    assert golifecycle.locate("l.tgz", tmp_path, tmp_path) == tgz
    assert golifecycle.locate(f"file://{tgz}", Path("/"), tmp_path) == tgz
    with pytest.raises(FileFormatError, match="is not a file"):
        golifecycle.locate("missing.tgz", tmp_path, tmp_path)
    with pytest.raises(FileFormatError, match="want a path"):
        golifecycle.locate("ftp://x/l.tgz", tmp_path, tmp_path)


def test_builder_carries_the_release(tmp_path: Path) -> None:
    """builder create with [lifecycle] uri: the layer holds the release, the labels its API
    tables and version."""
    from lifecycle import client
    from lifecycle.builder.create import CreateOptions, create_builder
    from lifecycle.oci import mutate
    from lifecycle.oci.fixtures import random_image

    ctx = client.Context(store_root=str(tmp_path / "home"))
    build = mutate.with_env(random_image(1), {"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1000"})
    ctx.store.put(build, "test/build")
    release(tmp_path / "lifecycle.tgz")
    (tmp_path / "builder.toml").write_text(
        '[lifecycle]\nuri = "lifecycle.tgz"\n\n[build]\nimage = "store:test/build"\n\n'
        '[[run.images]]\nimage = "store:test/build"\n')
    create_builder(CreateOptions("test/builder", str(tmp_path / "builder.toml")), ctx)
    info = client.inspect_image("store:test/builder", ctx)
    assert info["labels"]["io.buildpacks.lifecycle.version"] == "0.99.1"
    meta = json.loads(info["labels"]["io.buildpacks.builder.metadata"])
    assert meta["lifecycle"]["version"] == "0.99.1"
    img = ctx.store.image("test/builder")
    names: set[str] = set()
    for layer in img.layers():
        with layer.open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tf:
            names |= {m.name for m in tf}
    assert {"cnb/lifecycle/lifecycle", "cnb/lifecycle/detector", "lifecycle"} <= names
