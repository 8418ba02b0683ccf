"""The pure plan: mmdebstrap argv, hooks (cache, CNB user, reproducibility), cache key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from stack_fixtures import write_stack

from lifecycle.errors import UsageError
from lifecycle.stack import definition, plan
from lifecycle.stack import lock as stacklock
from lifecycle.stack.sources import AptSource

REPO = Path(__file__).resolve().parents[3]
SRC = (AptSource("http://m.example/debian", "bookworm", ("main",)),)


def _inputs(tmp_path: Path, lock: stacklock.Lock | None = None) -> plan.BuildInputs:
    return plan.BuildInputs("amd64", 315532801, SRC, tmp_path / "cache", lock)


def test_reproducibility_hook_list() -> None:
    for path in ("etc/hostname", "etc/resolv.conf", "etc/apt/sources.list",
                 "etc/apt/sources.list.d/*", "var/lib/apt/lists/*",
                 "var/cache/apt/archives/*.deb", "var/cache/ldconfig/aux-cache",
                 "var/log/*.log", "var/lib/apt/extended_states"):
        assert path in plan.REMOVE
    hook = plan.cleanup_hook()
    assert hook.startswith('cd "$1" && rm -rf -- ')
    assert "chown 0:0 ./var/cache/apt/archives" in hook


def test_mmdebstrap_call(tmp_path: Path) -> None:
    d = definition.load(definition.locate("default"))
    call = plan.mmdebstrap_call(d, d.build, _inputs(tmp_path), tmp_path / "b.tar")
    argv = call.argv
    assert argv[:5] == ("mmdebstrap", "--mode=unshare", "--variant=apt", "--format=tar",
                        "--architectures=amd64")
    assert argv[-3:] == ("bookworm", str(tmp_path / "b.tar"),
                         "deb http://m.example/debian bookworm main")
    assert f"--include={','.join(d.build.packages)}" in argv
    assert "--dpkgopt=path-exclude=/usr/share/doc/*" in argv
    assert "--skip=essential/unlink" in argv
    assert f"--setup-hook=sync-in {tmp_path / 'cache'} /var/cache/apt/archives/" in argv
    hooks = [a.split("=", 1)[1] for a in argv if a.startswith("--customize-hook=")]
    assert hooks[0] == f"sync-out /var/cache/apt/archives {tmp_path / 'cache'}"
    assert hooks[-1] == plan.cleanup_hook()  # last: nothing may add host files after it
    assert "cnb:x:1000:1000" in hooks[1]
    assert call.env == {"SOURCE_DATE_EPOCH": "315532801", "PYTHONDONTWRITEBYTECODE": "1"}
    assert not any("m.example" in a for a in argv[:-1])


def test_lock_pins_exact_versions(tmp_path: Path) -> None:
    d = definition.load(write_stack(tmp_path))
    entry = stacklock.ImageLock("essential", ("python3",),
                                {"python3": "3.11.2-1+b1", "bash": "5.2.15-2+b7"})
    call = plan.mmdebstrap_call(d, d.run, _inputs(tmp_path, stacklock.Lock({"run": entry})),
                                tmp_path / "r.tar")
    assert "--include=bash=5.2.15-2+b7,python3=3.11.2-1+b1" in call.argv
    call = plan.mmdebstrap_call(d, d.build, _inputs(tmp_path, stacklock.Lock({"run": entry})),
                                tmp_path / "b.tar")
    assert "--include=python3,gcc" in call.argv


def test_whitespace_in_cache_path_is_refused(tmp_path: Path) -> None:
    d = definition.load(write_stack(tmp_path))
    inputs = plan.BuildInputs("amd64", 1, SRC, tmp_path / "a b", None)
    with pytest.raises(UsageError, match="whitespace"):
        plan.mmdebstrap_call(d, d.run, inputs, tmp_path / "x.tar")


def test_recipes_are_shared_when_equal(tmp_path: Path) -> None:
    mini = definition.load(REPO / "tests/testdata/stack/mini/stack.toml")
    groups = plan.group_recipes(mini, _inputs(tmp_path))
    assert [[s.role for s in g] for _, g in groups] == [["build", "run"]]
    default = definition.load(definition.locate("default"))
    assert len(plan.group_recipes(default, _inputs(tmp_path))) == 2


def test_stack_key(tmp_path: Path) -> None:
    d = definition.load(write_stack(tmp_path))
    lk = stacklock.Lock({"run": stacklock.ImageLock("essential", ("python3",), {"a": "1"})})
    key = plan.stack_key(d, lk, arch="amd64", epoch=1)
    assert key.startswith("sha256:")
    assert plan.stack_key(d, lk, arch="amd64", epoch=1) == key
    other = stacklock.Lock({"run": stacklock.ImageLock("essential", ("python3",), {"a": "2"})})
    assert plan.stack_key(d, other, arch="amd64", epoch=1) != key
    assert plan.stack_key(d, lk, arch="arm64", epoch=1) != key
    assert plan.stack_key(d, lk, arch="amd64", epoch=2) != key
    text = (tmp_path / "teststack" / "stack.toml").read_text()
    mirrored = definition.load(write_stack(tmp_path, 'mirror = "http://x/debian"\n' + text))
    assert plan.stack_key(mirrored, lk, arch="amd64", epoch=1) == key  # mirror-independent
    changed = definition.load(write_stack(tmp_path, text.replace("tests", "other")))
    assert plan.stack_key(changed, lk, arch="amd64", epoch=1) != key


def test_user_hook_adds_user_group_and_home(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    hook = plan.user_hook(definition.User())
    uid = subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip()
    if uid != "0":
        hook = hook.replace("chown 1000:1000", "true")  # chown needs root (or a namespace)
    subprocess.run(["sh", "-c", hook, "hook", str(root)], check=True)
    assert (root / "etc" / "passwd").read_text().endswith(
        "cnb:x:1000:1000:CNB user:/home/cnb:/bin/sh\n")
    assert (root / "etc" / "group").read_text().endswith("cnb:x:1000:\n")
    assert "cnb:*:" in (root / "etc" / "shadow").read_text()
    assert (root / "home" / "cnb").is_dir()
    if uid == "0":
        assert (root / "home" / "cnb").stat().st_uid == 1000
    again = subprocess.run(["sh", "-c", hook, "hook", str(root)], capture_output=True,
                           text=True)
    assert again.returncode != 0
    assert "already in /etc/passwd" in again.stderr
