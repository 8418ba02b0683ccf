"""``pypack image ls/rm/prune`` over the local store, and ``pypack stack build`` usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecycle.cli.main import cli
from lifecycle.oci.fixtures import random_image
from lifecycle.store import Store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("PYPACK_HOME", str(tmp_path / "home"))
    return Store(tmp_path / "home")


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_image_ls_rm_prune(home: Store) -> None:
    d1 = home.put(random_image(2, seed=1), "example/one")
    home.put(random_image(1, seed=2), "example/two:v2")
    code, out = _run("image", "ls")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "DIGEST", "CREATED", "SIZE"]
    assert lines[1].startswith("example/one:latest ")
    assert str(d1)[:19] in lines[1]
    assert lines[2].startswith("example/two:v2 ")
    code, out = _run("image", "ls", "--json")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["example/one:latest", "example/two:v2"]
    assert rows[0]["digest"] == str(d1) and rows[0]["size"] > 0
    blobs = len(list((home.layout.path / "blobs" / "sha256").iterdir()))
    code, out = _run("image", "rm", "example/one", "--prune")
    assert code == 0, out
    assert "removed example/one" in out
    assert "pruned 4 blobs" in out  # two layers, config, manifest
    assert len(list((home.layout.path / "blobs" / "sha256").iterdir())) == blobs - 4
    assert [e.name for e in home.list()] == ["docker.io/example/two:v2"]
    code, out = _run("image", "rm", "example/one")
    assert code == 1 and "not in the local store" in out
    code, out = _run("image", "prune")
    assert (code, out.strip()) == (0, "pruned 0 blobs\npruned 0 unpacked root file systems (0 B)")


def test_stack_build_unknown_stack_is_a_usage_error(home: Store) -> None:
    code, out = _run("stack", "build", "no-such-stack")
    assert code == 3
    assert "no stack 'no-such-stack'" in out and "default" in out


def test_stack_build_up_to_date_is_instant(home: Store, tmp_path: Path) -> None:
    """With a lock and stored images carrying the key, nothing runs (no mmdebstrap needed)."""
    from lifecycle.oci import mutate
    from lifecycle.stack import assemble, build, definition, plan
    from lifecycle.stack import lock as stacklock

    src = Path(__file__).resolve().parents[3] / "tests/testdata/stack/mini/stack.toml"
    (tmp_path / "mini").mkdir()
    (tmp_path / "mini" / "stack.toml").write_text(src.read_text())
    d = definition.load(tmp_path / "mini" / "stack.toml")
    lk = stacklock.Lock({s.role: stacklock.ImageLock(s.variant, s.packages, {"dpkg": "1"})
                         for s in d.images()})
    stacklock.dump(d.lock_path, lk)
    key = plan.stack_key(d, lk, arch=build.host_arch(), epoch=build.epoch_for(d),
                         hooks_digest=build.hook_dirs_digest(d))
    for s in d.images():
        home.put(mutate.with_labels(random_image(1), {assemble.KEY_LABEL: key}), s.name)
    code, out = _run("stack", "build", str(tmp_path / "mini"))
    assert code == 0, out
    assert "stack mini: up to date" in out
    assert "pypack/mini-run@sha256:" in out
