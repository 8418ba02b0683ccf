"""The default builder's key (lifecycle.builder.default): what remakes the builder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.builder.default import fingerprint, plan_key


def _tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("a = 1\n")
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    (root / "data").mkdir()
    (root / "data" / "buildpack.toml").write_text("api = '0.12'\n")
    (root / "pkg" / "data").symlink_to("../data")
    return root / "pkg"


def test_fingerprint_follows_links_and_skips_pycache(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    names = [Path(p).relative_to(pkg).as_posix() for p, *_ in fingerprint([pkg])]
    assert names == ["a.py", "data/buildpack.toml"]


def test_key_changes_with_a_file_a_stack_or_the_version(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    stacks = {"pypack/default-build": "sha256:1", "pypack/default-run": "sha256:2"}
    key = plan_key("0.1.0", fingerprint([pkg]), stacks)
    assert key == plan_key("0.1.0", fingerprint([pkg]), dict(reversed(stacks.items())))
    assert key != plan_key("0.1.1", fingerprint([pkg]), stacks)
    assert key != plan_key("0.1.0", fingerprint([pkg]), {**stacks, "pypack/default-run": "x"})
    (tmp_path / "data" / "buildpack.toml").write_text("api = '0.11'\n")
    assert key != plan_key("0.1.0", fingerprint([pkg]), stacks)


def test_key_ignores_bytecode_but_not_mtimes(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    key = plan_key("v", fingerprint([pkg]), {})
    (pkg / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"y")
    assert plan_key("v", fingerprint([pkg]), {}) == key
    st = (pkg / "a.py").stat()
    os.utime(pkg / "a.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert plan_key("v", fingerprint([pkg]), {}) != key


def test_default_stack_falls_back_to_current_versions(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A lock whose versions left the mirror must not break a first ``pypack build``."""
    from lifecycle.builder.default import build_default_stack
    from lifecycle.client import Context
    from lifecycle.errors import StackBuildError
    from lifecycle.stack import build as stack_build

    calls: list[stack_build.StackBuildOptions] = []

    def fake(opts: stack_build.StackBuildOptions, store: object = None) -> None:
        calls.append(opts)
        if not opts.update:
            raise StackBuildError("mmdebstrap failed for build+run image (exit 1); last "
                                  "output:\n  E: Version '1.0' for 'foo' was not found")

    monkeypatch.setattr(stack_build, "build", fake)
    build_default_stack(tmp_path, Context(store_root=str(tmp_path / "home")))
    assert [(c.update, c.write_lock) for c in calls] == [(False, True), (True, False)]
    assert "did not build from its lock (mmdebstrap failed" in caplog.text
