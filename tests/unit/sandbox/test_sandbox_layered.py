"""Sharing a run image's unpacked layers between app images (``pypack run``): where an image
splits, which app entries prevent it, the merged view, and ``rootfs.prepare`` on a store."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from lifecycle.oci import mediatypes as mt
from lifecycle.oci import mutate
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import layer_from_files, random_image
from lifecycle.oci.image import ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer, Layer
from lifecycle.platform.labels import LIFECYCLE_METADATA
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.layered import (
    Fallback,
    Root,
    Split,
    as_root,
    base_conflict,
    entry_problem,
    split,
)
from lifecycle.sandbox.rootfs import app_path_for, path_for, prepare, remove
from lifecycle.store import Store


def _tar(entries: list[tuple[str, str, bytes | str]]) -> BlobLayer:
    """A layer of (name, kind, data-or-linkname) entries; kind in file/dir/sym/link."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = 0o755 if kind == "dir" else 0o644
            if kind == "file":
                assert isinstance(data, bytes)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                       "link": tarfile.LNKTYPE}[kind]
            if kind in ("sym", "link"):
                assert isinstance(data, str)
                ti.linkname = data
            tf.addfile(ti)
    raw = out.getvalue()
    return BlobLayer.from_bytes(gzip.compress(raw, mtime=0), Digest.of(raw), mt.OCI_LAYER_GZIP)


BASE = (
    layer_from_files({"etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n",
                      "usr/bin/python3.11": b"py"}),
    _tar([("usr/bin/python3", "sym", "python3.11"), ("workspace", "dir", b""),
          ("layers", "dir", b"")]),
)


def _app(base: tuple[Layer, ...], app: list[Layer], *, top: str | None = None) -> ImageValue:
    """An image of ``base`` then ``app`` layers, labelled as the exporter would."""
    img = mutate.append_layers(empty_image(), [*base, *app])
    top = str(base[-1].diff_id) if top is None else top
    label = json.dumps({"app": [], "runImage": {"topLayer": top, "reference": ""}})
    return mutate.with_labels(img, {LIFECYCLE_METADATA: label})


def _app_layers(text: bytes) -> list[Layer]:
    return [
        layer_from_files({"layers/bp/venv/lib/dep.py": b"dep", "workspace/app.py": text}),
        _tar([("cnb", "dir", b""), ("cnb/lifecycle", "dir", b""),
              ("cnb/lifecycle/launcher", "file", b"#!/bin/sh\n"), ("cnb/process", "dir", b""),
              ("cnb/process/web", "sym", "/cnb/lifecycle/launcher"),
              ("layers/bp/venv/bin", "dir", b""),
              ("layers/bp/venv/bin/python", "sym", "/usr/bin/python3")]),
    ]


# --- split ------------------------------------------------------------------------------------
def test_split_at_the_run_image_top_layer() -> None:
    img = _app(BASE, _app_layers(b"v1"))
    sp = split(img.config())
    assert sp == Split(tuple(img.config().diff_ids[:2]), 2)
    again = split(_app(BASE, _app_layers(b"v2")).config())
    assert isinstance(again, Split) and isinstance(sp, Split) and again.key == sp.key
    assert sp.key.startswith("base-") and len(sp.key) == 5 + 64
    other = split(_app(BASE[:1], _app_layers(b"v1")).config())
    assert isinstance(other, Split) and other.key != sp.key


@pytest.mark.parametrize(("img", "why"), [
    (random_image(3), "no io.buildpacks.lifecycle.metadata label"),
    (_app(BASE, _app_layers(b"v1"), top="sha256:" + "0" * 64), "0 times"),
    (_app(BASE, [], top=None), "no app layers"),
    (mutate.with_labels(random_image(2), {LIFECYCLE_METADATA: "not json"}), "not a JSON"),
    (mutate.with_labels(random_image(2), {LIFECYCLE_METADATA: "[1]"}), "not a JSON"),
    (mutate.with_labels(random_image(2), {LIFECYCLE_METADATA: '{"runImage": {}}'}),
     "no runImage.topLayer"),
    (_app((BASE[1], BASE[0], BASE[1]), _app_layers(b"v1")), "2 times"),
])
def test_split_falls_back(img: ImageValue, why: str) -> None:
    sp = split(img.config())
    assert isinstance(sp, Fallback) and why in sp.reason


# --- entries ----------------------------------------------------------------------------------
def _info(name: str, kind: str = "file", link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
               "link": tarfile.LNKTYPE}[kind]
    ti.linkname = link
    return ti


@pytest.mark.parametrize(("entry", "why"), [
    (_info("workspace/.wh.app.py"), "whiteout"),
    (_info("layers/bp/.wh..wh..opq"), "whiteout"),
    (_info(".wh.etc"), "whiteout"),
    (_info("app.py"), "top-level non-directory"),
    (_info("bin", "sym", "usr/bin"), "top-level non-directory"),
    (_info("tmp/x"), "under /tmp"),
    (_info("proc", "dir"), "under /proc"),
    (_info("workspace/sh", "link", "usr/bin/sh"), "hard link"),
])
def test_entries_that_prevent_sharing(entry: tarfile.TarInfo, why: str) -> None:
    problem = entry_problem(entry, {"workspace"})
    assert problem is not None and why in problem


@pytest.mark.parametrize("entry", [
    _info(".", "dir"), _info("./", "dir"), _info("cnb", "dir"), _info("workspace/a.py"),
    _info("cnb/process/web", "sym", "/cnb/lifecycle/launcher"),
    _info("workspace/b.py", "link", "workspace/a.py"),
    _info("layers/x/.whatever"),
])
def test_entries_that_share(entry: tarfile.TarInfo) -> None:
    assert entry_problem(entry, {"workspace"}) is None


# --- the merged view --------------------------------------------------------------------------
def _trees(tmp_path: Path) -> Root:
    base, upper = tmp_path / "base", tmp_path / "upper"
    (base / "usr/bin").mkdir(parents=True)
    (base / "usr/bin/python3.11").write_text("py")
    (base / "usr/bin/python3").symlink_to("python3.11")
    (base / "cnb").mkdir()  # an empty mount point, hidden by the bind
    (upper / "cnb/lifecycle").mkdir(parents=True)
    (upper / "cnb/lifecycle/launcher").write_text("launcher")
    (upper / "cnb/process").mkdir()
    (upper / "cnb/process/web").symlink_to("/cnb/lifecycle/launcher")
    (upper / "layers/bp/bin").mkdir(parents=True)
    (upper / "layers/bp/bin/python").symlink_to("/usr/bin/python3")
    (upper / "layers/bp/bin/rel").symlink_to("../../../usr/bin/python3")
    return Root(base, upper, ("cnb", "layers"))


def test_root_resolves_across_both_trees(tmp_path: Path) -> None:
    root = _trees(tmp_path)
    assert root.resolve("/cnb/process/web") == "/cnb/lifecycle/launcher"
    assert root.host("/cnb/process/web") == tmp_path / "upper/cnb/lifecycle/launcher"
    assert root.resolve("/layers/bp/bin/python") == "/usr/bin/python3.11"
    assert root.host("/layers/bp/bin/rel") == tmp_path / "base/usr/bin/python3.11"
    assert root.host("/usr/bin/python3") == tmp_path / "base/usr/bin/python3.11"
    assert root.host("/nowhere/x") == tmp_path / "base/nowhere/x"
    assert root.where("/") == tmp_path / "base"
    assert root.binds() == (Bind(str(tmp_path / "upper/cnb"), "/cnb", readonly=True),
                            Bind(str(tmp_path / "upper/layers"), "/layers", readonly=True))
    alone = as_root(tmp_path / "base")
    assert alone == Root(tmp_path / "base") and alone.binds() == ()
    assert alone.resolve("/cnb/process/web") == "/cnb/process/web"


def test_base_conflicts(tmp_path: Path) -> None:
    root = _trees(tmp_path)
    assert root.upper is not None
    assert base_conflict(root.base, root.upper, root.tops) is None  # /cnb empty, /layers absent
    (root.base / "layers/bp/bin").mkdir(parents=True)  # empty dirs the upper also has
    assert base_conflict(root.base, root.upper, root.tops) is None
    (root.base / "layers/other").mkdir()
    assert "lack" in (base_conflict(root.base, root.upper, root.tops) or "")
    os.rmdir(root.base / "layers/other")
    (root.base / "cnb/README").write_text("x")
    assert "non-directory at /cnb/README" in (base_conflict(root.base, root.upper, root.tops)
                                              or "")
    os.unlink(root.base / "cnb/README")
    (root.base / "layers/bp/bin/tool").symlink_to("/x")
    assert "/layers/bp/bin/tool" in (base_conflict(root.base, root.upper, root.tops) or "")
    os.unlink(root.base / "layers/bp/bin/tool")
    os.rmdir(root.base / "cnb")
    (root.base / "cnb").symlink_to("usr")
    assert "non-directory at /cnb" in (base_conflict(root.base, root.upper, root.tops) or "")


# --- prepare: the store -----------------------------------------------------------------------
def _dirs(store: Store) -> list[str]:
    return sorted(p.name.split("-")[0] if "-" in p.name else "full"
                  for p in store.rootfs_dir.iterdir())


def test_rebuilt_app_shares_the_base(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    v1, v2 = _app(BASE, _app_layers(b"v1")), _app(BASE, _app_layers(b"v2"))
    r1, r2 = prepare(v1, store), prepare(v2, store)
    sp = split(v1.config())
    assert isinstance(sp, Split) and r1.base == r2.base == store.rootfs_dir / sp.key
    assert r1.upper == app_path_for(v1, store) and r2.upper == app_path_for(v2, store)
    assert r1.tops == ("cnb", "layers", "workspace")
    assert _dirs(store) == ["app", "app", "base"]
    assert r2.host("/workspace/app.py").read_bytes() == b"v2"
    assert r1.host("/workspace/app.py").read_bytes() == b"v1"
    assert r2.host("/layers/bp/venv/bin/python") == r2.base / "usr/bin/python3.11"
    assert all((r1.base / d).is_dir() for d in ("proc", "dev", "tmp"))
    assert not (r1.base / "cnb").exists() and (r1.base / "workspace").is_dir()
    assert prepare(v2, store) == r2  # cached
    assert remove(v2, store) is True and not app_path_for(v2, store).exists()
    assert r2.base.is_dir() and remove(v2, store) is False


@pytest.mark.parametrize(("app", "has_base"), [
    ([_tar([("workspace", "dir", b""), ("workspace/.wh.old", "file", b"")])], False),
    ([_tar([("app.py", "file", b"x")])], False),
    ([_tar([("workspace/sh", "link", "usr/bin/python3.11")])], False),
    ([layer_from_files({"etc/motd": b"hi"})], True),  # /etc of the base would be hidden
])
def test_unshareable_images_are_unpacked_whole(tmp_path: Path, app: list[Layer],
                                               has_base: bool) -> None:
    store = Store(tmp_path / "home")
    img = _app(BASE, app)
    root = prepare(img, store)
    assert root == Root(path_for(img, store))
    assert _dirs(store) == (["base", "full"] if has_base else ["full"])
    assert (root.base / "etc/passwd").is_file()


def test_plain_images_and_earlier_unpacks_are_used_whole(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    plain = random_image(2)
    assert prepare(plain, store) == Root(path_for(plain, store))
    img = _app(BASE, _app_layers(b"v1"))
    path_for(img, store).mkdir()
    assert prepare(img, store) == Root(path_for(img, store))
    assert _dirs(store) == ["full", "full"]


def test_prune_keeps_what_stored_images_use(tmp_path: Path) -> None:
    from lifecycle.sandbox.rootfs import prune

    store = Store(tmp_path / "home")
    v1, v2 = _app(BASE, _app_layers(b"v1")), _app(BASE, _app_layers(b"v2"))
    plain = random_image(2)
    for img in (v1, v2, plain):
        prepare(img, store)
    (store.rootfs_dir / ".unpack-abc-x").mkdir()  # an interrupted unpack, long ago
    os.utime(store.rootfs_dir / ".unpack-abc-x", (1, 1))
    (store.rootfs_dir / ".unpack-def-y").mkdir()  # one running now: kept
    store.put(v2, "acme/app")
    store.put(plain, "acme/plain")
    dirs, nbytes = prune(store)
    assert dirs == 2 and nbytes > 0  # v1's app dir and the leftover
    assert sorted(p.name for p in store.rootfs_dir.iterdir()) == sorted(
        [path_for(plain, store).name, app_path_for(v2, store).name,
         prepare(v2, store).base.name, ".unpack-def-y"])
    store.remove("acme/app")
    assert prune(store)[0] == 2  # v2's app dir and, now unused, the base
    assert prune(store) == (0, 0)
