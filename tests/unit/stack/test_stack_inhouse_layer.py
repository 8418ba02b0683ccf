"""The additions layer: the base tree (whiteouts, symlinks), placing entries as dpkg would,
CA trust and users written into it, and a whole in-house stack build without packages
(offline): base layers shared, one layer on top, config, lock, same digest twice."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from inhouse_fixtures import (
    EXAMPLE_CA,
    INHOUSE,
    base_image,
    d,
    f,
    layer,
    ln,
    tar_bytes,
    write_inhouse,
)

from lifecycle.oci.check import check_image
from lifecycle.platform import labels as L
from lifecycle.stack import addsteps, assemble, basetree, build, inhouse
from lifecycle.stack import lock as stacklock
from lifecycle.stack.additions import UserSpec
from lifecycle.stack.overlay import Overlay
from lifecycle.stack.rootfs_tar import open_rootfs
from lifecycle.store import Store


def test_base_tree_applies_whiteouts_and_captures() -> None:
    l1 = layer([d("etc"), f("etc/passwd", "root\n"), d("opt"), f("opt/a", "a"),
                d("var"), f("var/x", "x"), f("keep", "k")])
    l2 = layer([f("etc/passwd", "root\nsvc\n"), ("opt/.wh..wh..opq", tarfile.REGTYPE, b"", 0),
                f("opt/b", "b"), ("var/.wh.x", tarfile.REGTYPE, b"", 0), f("var", "now a file"),
                ("hard", tarfile.LNKTYPE, "etc/passwd", 0o644)])
    tree = basetree.scan([l1, l2], lambda n: n.startswith("etc/") or n == "hard")
    assert sorted(tree.entries) == ["etc", "etc/passwd", "hard", "keep", "opt", "opt/b", "var"]
    assert tree.read("etc/passwd") == b"root\nsvc\n" and tree.read("keep") is None
    assert tree.data["hard"] == b"root\nsvc\n"
    assert tree.entries["var"].isreg()


def test_resolve_follows_symlinks() -> None:
    tree = basetree.scan([layer([d("usr"), d("usr/bin"), ln("bin", "usr/bin"),
                                 ln("usr/bin/sh", "/bin/dash"), ln("loop", "loop")])],
                         lambda _n: False)
    assert basetree.resolve(tree.lookup, "bin/x") == "usr/bin/x"
    assert basetree.resolve(tree.lookup, "bin/sh") == "usr/bin/dash"
    assert basetree.resolve(tree.lookup, "bin/sh", follow_last=False) == "usr/bin/sh"
    assert basetree.resolve(tree.lookup, "usr/../../etc") == "etc"
    with pytest.raises(Exception, match="too many levels"):
        basetree.resolve(tree.lookup, "loop/x")


def _entries(path: Path, epoch: int = 315532801) -> dict[str, tarfile.TarInfo]:
    with open_rootfs(path) as t:
        data = b"".join(t.stream(epoch, drop=lambda _n: False))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name.rstrip("/"): m for m in tf.getmembers()}


def test_overlay_places_like_dpkg(tmp_path: Path) -> None:
    tree = basetree.scan(base_image().layers(), inhouse.capture)
    ov = Overlay(tree, tmp_path / "add.tar", inhouse.capture, 315532801)
    ov.add_bytes("bin/tool", b"#!/bin/sh\n", 0o755)           # through the /bin symlink
    ov.add_dir("usr", 0o700)                                   # exists: left alone
    ov.add_bytes("opt/corp/etc/conf", b"x", 0o600, 5, 6)      # parents made
    ov.close()
    got = _entries(tmp_path / "add.tar")
    assert sorted(got) == ["opt", "opt/corp", "opt/corp/etc", "opt/corp/etc/conf",
                           "usr/bin/tool"]
    assert (got["opt/corp/etc/conf"].mode, got["opt/corp/etc/conf"].uid) == (0o600, 5)
    assert got["opt"].mode == 0o755 and got["usr/bin/tool"].mtime == 315532801


def test_trust_appends_to_the_bundle_and_adds_users(tmp_path: Path) -> None:
    other = b"-----BEGIN CERTIFICATE-----\n" + EXAMPLE_CA.read_bytes().split(b"\n", 1)[1]
    tree = basetree.scan(base_image(bundle=b"# mozilla...\n").layers(), inhouse.capture)
    ov = Overlay(tree, tmp_path / "add.tar", inhouse.capture, 315532801)
    ov.add_bytes("usr/local/share/ca-certificates/corp.crt", other)
    ov.add_bytes("usr/local/share/ca-certificates/readme.txt", b"not a cert")
    addsteps.add_users(ov, [UserSpec("svc", 1500, 1500)])
    assert addsteps.update_trust(ov, set(ov.names()), ca_installed=False)
    ov.close()
    got = _entries(tmp_path / "add.tar")
    assert ov.read("etc/ssl/certs/ca-certificates.crt") == b"# mozilla...\n" + other
    assert got["etc/ssl/certs/db3e027a.0"].linkname == "corp.pem"
    assert got["etc/ssl/certs/corp.pem"].linkname == "/usr/local/share/ca-certificates/corp.crt"
    assert (got["etc/shadow"].mode, got["home/svc"].uid) == (0o640, 1500)
    assert ov.read("etc/passwd") is not None
    assert b"svc:x:1500:1500::/home/svc:/bin/bash" in (ov.read("etc/passwd") or b"")


def test_trust_untouched_without_ca_files(tmp_path: Path) -> None:
    tree = basetree.scan(base_image().layers(), inhouse.capture)
    ov = Overlay(tree, tmp_path / "add.tar", inhouse.capture, 315532801)
    ov.add_bytes("etc/motd", b"hi")
    assert not addsteps.update_trust(ov, set(ov.names()), ca_installed=False)
    ov.close()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("PYPACK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    st = Store(tmp_path / "home")
    st.put(base_image(bundle=b""), "example/base-build")
    st.put(base_image(cnb_env=False), "example/base-run")
    return st


def test_inhouse_build_without_packages(tmp_path: Path, store: Store) -> None:
    path = write_inhouse(tmp_path, INHOUSE.replace('[run]\n', '[run]\ndescription = "run"\n'))
    res = build.build(build.StackBuildOptions(str(path)), store)
    assert not res.up_to_date and res.lock_written
    b, r = store.image("example/inhouse-build"), store.image("example/inhouse-run")
    for img, base in ((b, "example/base-build"), (r, "example/base-run")):
        check_image(img)
        base_layers = store.image(base).layers()
        assert [x.digest for x in img.layers()[:-1]] == [x.digest for x in base_layers]
        assert len(img.layers()) == len(base_layers) + 1
        labels = img.config().config.labels
        assert labels[L.STACK_ID] == "io.example.stacks.inhouse"
        assert labels[L.BASE_DISTRO_NAME] == "debian" and labels[L.BASE_DISTRO_VERSION] == "12"
        assert labels[assemble.BASE_LABEL].startswith(base + "@sha256:")
        assert L.BASE_MAINTAINER not in labels  # the base's, not ours
        meta = json.loads(labels[L.BASE_METADATA])
        assert meta["packages"] == {"base-files": "12.4"} and meta["base"]["image"] == base
        assert str(img.config().history[-1].created_by).startswith("pypack stack build inhouse:")
    bc, rc = b.config().config, r.config().config
    assert bc.user == "1000:1000" and "CORP=1" in bc.env and "CNB_STACK_ID=" \
        "io.example.stacks.inhouse" in bc.env
    assert rc.labels[L.REBASABLE] == "true" and rc.labels[L.BASE_ID] == \
        "io.example.stacks.inhouse" and rc.labels[L.BASE_DESCRIPTION] == "run"
    # the run base had no CNB user in its config: the stack's default (cnb 1000:1000) is set
    assert rc.user == "1000:1000" and "CNB_USER_ID=1000" in rc.env
    lk = stacklock.load(path.parent / "stack.lock")
    assert lk is not None and lk.images["run"].base == "example/base-run"
    assert lk.images["run"].base_digest == str(store.image("example/base-run").digest())
    with tarfile.open(fileobj=b.layers()[-1].open_uncompressed(), mode="r|") as tf:
        names = {m.name.rstrip("/"): m for m in tf}
    assert names["usr/local/share/ca-certificates/corp-ca.crt"].mode == 0o644
    assert names["etc/ssl/certs/db3e027a.0"].linkname == "corp-ca.pem"
    assert names["home/svc"].uid == 1500
    # up to date, then the same digests when rebuilt
    again = build.build(build.StackBuildOptions(str(path)), store)
    assert again.up_to_date and again.images == res.images
    rebuilt = build.build(build.StackBuildOptions(str(path), rebuild=True), store)
    assert rebuilt.images == res.images and not rebuilt.up_to_date
    # a changed CA file makes the stack out of date
    (path.parent / "corp-ca.pem").write_bytes(EXAMPLE_CA.read_bytes() + b"\n")
    changed = build.build(build.StackBuildOptions(str(path)), store)
    assert not changed.up_to_date and changed.images != res.images


def test_inhouse_build_errors(tmp_path: Path, store: Store) -> None:
    from lifecycle.errors import StackBuildError

    path = write_inhouse(tmp_path, INHOUSE.replace("example/base-run", "store:example/missing"))
    with pytest.raises(StackBuildError, match=r"run\.base store:example/missing: .*not in the"):
        build.build(build.StackBuildOptions(str(path)), store)
    text = INHOUSE + '\n[distro]\nname = "ubuntu"\nversion = "24.04"\ncodename = "noble"\n'
    with pytest.raises(StackBuildError, match="says debian 12"):
        build.build(build.StackBuildOptions(str(write_inhouse(tmp_path, text, "u"))), store)
    assert tar_bytes([])  # the helper writes an empty archive too


def test_assemble_on_a_base_without_history() -> None:
    from dataclasses import replace

    from lifecycle.oci import mutate

    base = base_image()
    bare = mutate.with_config(base, replace(base.config(), history=()))
    cfg = assemble.ImageConfig("", {"A": "1"}, {"x": "y"}, 315532801, "added")
    top = layer([f("etc/motd", "hi")])
    img = assemble.assemble_on(bare, top, cfg)
    check_image(img)
    assert img.config().history == () and img.config().config.user is None
    with_hist = assemble.assemble_on(base, None, cfg)
    assert with_hist.layers() == base.layers()
    assert with_hist.config().history[-1].empty_layer
    assert "A=1" in with_hist.config().config.env
