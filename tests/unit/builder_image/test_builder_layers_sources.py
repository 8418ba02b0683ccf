"""Buildpack sources (directory, .tgz, refusals) and the deterministic layer tars: symlinks
followed, pack's modes, root owner, fixed mtimes, the same bytes every time."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from builder_image_rig import ALPHA, TWO_BUILDPACKS, write_config

from lifecycle.builder import config, layers, sources
from lifecycle.builder.config import BuildpackSource
from lifecycle.errors import BuildpackAPIError, FileFormatError, ImageError, UsageError
from lifecycle.oci.tarball import EPOCH_1980


def _members(chunks: object) -> dict[str, tarfile.TarInfo]:
    data = b"".join(chunks)  # type: ignore[arg-type]
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: m for m in tf.getmembers()}


def test_buildpack_layer_follows_symlinks_and_normalises(tmp_path: Path) -> None:
    bp = tmp_path / "bp"
    shutil.copytree(ALPHA, bp)
    vendor = tmp_path / "vendor"
    (vendor / "pkg").mkdir(parents=True)
    (vendor / "pkg" / "mod.py").write_text("X = 1\n")
    (bp / "lib" / "vendored").symlink_to(vendor)            # a vendored library
    (bp / "lib" / "alias.sh").symlink_to("helper.sh")
    (vendor / "pkg" / "__pycache__").mkdir()
    (vendor / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"host bytes")
    os.chmod(bp / "lib" / "helper.sh", 0o600)
    os.chmod(bp / "bin" / "build", 0o700)
    m = _members(layers.buildpack_tar(bp, "test/alpha", "0.0.1"))
    root = "cnb/buildpacks/test_alpha/0.0.1"
    assert list(m)[:2] == ["cnb/buildpacks/test_alpha", root]
    assert m[f"{root}/lib/vendored/pkg/mod.py"].isfile()
    assert m[f"{root}/lib/vendored"].isdir()
    assert not any("__pycache__" in n for n in m)
    assert m[f"{root}/lib/alias.sh"].isfile()              # a copy, not a link
    assert m[f"{root}/lib/helper.sh"].mode == 0o644
    assert m[f"{root}/bin/build"].mode == 0o755
    assert m[f"{root}/lib"].mode == 0o755
    assert {(x.uid, x.gid, x.uname, x.gname) for x in m.values()} == {(0, 0, "", "")}
    assert {x.mtime for x in m.values()} == {EPOCH_1980}
    names = list(m)
    assert names == sorted(names, key=lambda n: [os.fsencode(p) for p in n.split("/")])


def test_buildpack_layer_is_deterministic_and_honours_source_date_epoch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = b"".join(layers.buildpack_tar(ALPHA, "test/alpha", "0.0.1"))
    copy = tmp_path / "copy"
    shutil.copytree(ALPHA, copy)
    os.utime(copy / "buildpack.toml", (1, 1))
    assert b"".join(layers.buildpack_tar(copy, "test/alpha", "0.0.1")) == a
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    m = _members(layers.buildpack_tar(ALPHA, "test/alpha", "0.0.1"))
    assert {x.mtime for x in m.values()} == {1700000000}


def test_dangling_symlink_and_loop_are_refused(tmp_path: Path) -> None:
    bp = tmp_path / "bp"
    shutil.copytree(ALPHA, bp)
    (bp / "broken").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ImageError, match="dangling symlink"):
        b"".join(layers.buildpack_tar(bp, "x", "1"))
    (bp / "broken").unlink()
    (bp / "lib" / "loop").symlink_to("..")
    with pytest.raises(ImageError, match="symlink loop"):
        b"".join(layers.buildpack_tar(bp, "x", "1"))


def test_entries_tar_and_lifecycle_layer(tmp_path: Path) -> None:
    (tmp_path / "launcher").write_bytes(b"#!x\n")
    os.chmod(tmp_path / "launcher", 0o755)
    (tmp_path / "notes.txt").write_text("n")
    entries = layers.lifecycle_entries(tmp_path) + layers.default_dirs(7, 8)
    m = _members(layers.tar_entries(sorted(entries, key=layers.sort_key)))
    assert m["cnb/lifecycle/launcher"].mode == 0o755
    assert m["cnb/lifecycle/notes.txt"].mode == 0o644
    assert m["lifecycle"].issym() and m["lifecycle"].linkname == "/cnb/lifecycle"
    assert (m["workspace"].uid, m["workspace"].gid) == (7, 8)
    assert (m["cnb"].uid, m["platform/env"].mode) == (0, 0o755)


def _tgz(src: Path, dest: Path, top: str | None) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(src, arcname=top or ".")
    return dest


@pytest.mark.parametrize("top", [None, "alpha-0.0.1"])
def test_tgz_source_is_extracted(tmp_path: Path, top: str | None) -> None:
    tgz = _tgz(ALPHA, tmp_path / "alpha.tgz", top)
    src = BuildpackSource("buildpacks[0]", uri=str(tgz), path=tgz)
    bp = sources.load_one(src, tmp_path / "builder.toml", tmp_path / "scratch")
    assert bp.full_name == "test/alpha@0.0.1"
    assert (bp.descriptor.dir / "lib" / "helper.sh").is_file()
    assert bp.info().keywords == ("fixture",)


def test_tgz_with_escaping_entry_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tgz"
    with tarfile.open(bad, "w:gz") as tf:
        info = tarfile.TarInfo("../evil")
        tf.addfile(info, io.BytesIO(b""))
    src = BuildpackSource("buildpacks[0]", uri=str(bad), path=bad)
    with pytest.raises(ImageError, match="'..' component refused"):
        sources.load_one(src, tmp_path / "builder.toml", tmp_path / "scratch")
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize(("entry", "error", "needle"), [
    ('uri = "store:nothing/here:1"', ImageError, "is not in the local store"),
    ('image = "store:nothing/here:1"', ImageError, "is not in the local store"),
    ('uri = "x.cnb"', ImageError, "No such file or directory"),
    ('uri = "https://example.com/bp.tgz"', UsageError, "only local directories"),
    ('uri = "missing"', FileFormatError, "no such file or directory"),
    ('uri = "builder.toml"', FileFormatError, "want a directory or a .tgz"),
    ('uri = "bp-alpha"\nid = "test/other"', FileFormatError,
     "has id 'test/alpha', which does not match id 'test/other'"),
    ('uri = "bp-alpha"\nversion = "9"', FileFormatError,
     "has version '0.0.1', which does not match version '9'"),
])
def test_source_refusals_name_the_entry(tmp_path: Path, entry: str, error: type[Exception],
                                        needle: str) -> None:
    path = write_config(tmp_path, f'{TWO_BUILDPACKS}\n[[buildpacks]]\n{entry}\n')
    cfg = config.load(path)
    with pytest.raises(error) as err:
        sources.load_all(cfg, tmp_path / "scratch")
    assert needle in str(err.value)
    assert "buildpacks[2]" in str(err.value)


def test_unsupported_buildpack_api_exits_12(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_BUILDPACKS)
    (tmp_path / "bp-beta" / "buildpack.toml").write_text(
        'api = "0.2"\n[buildpack]\nid = "test/beta"\nversion = "1.2.3"\n')
    with pytest.raises(BuildpackAPIError) as err:
        sources.load_all(config.load(path), tmp_path / "scratch")
    assert err.value.exit_code == 12


def test_extensions_are_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_BUILDPACKS + '\n[[extensions]]\nuri = "bp-beta"\n')
    with pytest.raises(UsageError, match="image extensions are not supported"):
        sources.load_all(config.load(path), tmp_path / "scratch")
