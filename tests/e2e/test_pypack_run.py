"""``pypack run`` for real, as root and as a non-root user: output, exit codes, --process,
--env, a throwaway writable workdir, and Ctrl-C forwarded to the app.

Each test imports a busybox image into the actor's own local store with ``pypack image
import`` and runs it with ``pypack run`` (subprocesses, through ``runuser`` for the user).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from rootfs_rig import busybox_rootfs
from test_sandbox import Actor, actor_fixture, nonroot_actor_fixture, work_fixture  # noqa: F401

pytestmark = pytest.mark.e2e

IMAGE = "sbx-run/busybox:1"
WEB = "#!/bin/sh\necho \"web process $*\"\nexit 4\n"


def _import(actor: Actor, work: Path) -> dict[str, str]:
    """Import the busybox image into ``work``'s store; the env to run pypack with."""
    root = busybox_rootfs(work / "bb", hello="hello from the image\n")
    (root / "w").mkdir()
    (root / "w" / "seed.txt").write_text("seed\n")
    (root / "cnb" / "process").mkdir(parents=True)
    (root / "cnb" / "process" / "web").write_text(WEB)
    (root / "cnb" / "process" / "web").chmod(0o755)
    actor.own(work)
    env = actor.env(work, {"PYPACK_HOME": str(work / "pypack-home"),
                           "HTTP_PROXY": "http://proxy.invalid:3128"})
    script = "cat /hello.txt; echo uid=$(id -u) gid=$(id -g) pwd=$(pwd); exit 7"
    actor.run(actor.pypack("image", "import", str(root), "--tag", f"store:{IMAGE}",
                           "--entrypoint", "/bin/sh", "--cmd", "-c", "--cmd", script,
                           "--env", "PATH=/bin", "--workdir", "/w", "--user", "1000:1000"),
              env, cwd=work, check=True)
    return env


def test_run_prints_output_and_propagates_the_exit_code(actor: Actor, work: Path) -> None:
    env = _import(actor, work)
    res = actor.run(actor.pypack("run", IMAGE), env, cwd=work)
    assert res.returncode == 7, res.stderr
    assert res.stdout.splitlines() == ["hello from the image", "uid=1000 gid=1000 pwd=/w"]

    res = actor.run(actor.pypack("run", "--env", "FOO=bar", "-e", "HTTP_PROXY", IMAGE, "--",
                                 "-c", "echo $FOO $HTTP_PROXY; exit 0"), env, cwd=work)
    assert (res.returncode, res.stdout) == (0, "bar http://proxy.invalid:3128\n"), res.stderr

    res = actor.run(actor.pypack("run", "--process", "web", IMAGE, "--", "a", "b"), env, cwd=work)
    assert (res.returncode, res.stdout) == (4, "web process a b\n"), res.stderr

    res = actor.run(actor.pypack("run", "--process", "cron", IMAGE), env, cwd=work)
    assert res.returncode == 3 and "no process type 'cron'; it has: web" in res.stderr


def test_run_workdir_is_a_writable_throwaway_copy(actor: Actor, work: Path) -> None:
    env = _import(actor, work)
    write = "cat seed.txt; echo new > made.txt && cat made.txt; touch /x 2>/dev/null || echo ro"
    res = actor.run(actor.pypack("run", IMAGE, "--", "-c", write), env, cwd=work)
    assert (res.returncode, res.stdout) == (0, "seed\nnew\nro\n"), res.stderr
    res = actor.run(actor.pypack("run", IMAGE, "--", "-c", "ls"), env, cwd=work)
    assert res.stdout == "seed.txt\n"  # nothing persisted
    res = actor.run(actor.pypack("run", "--read-only-workdir", IMAGE, "--", "-c",
                                 "touch f 2>/dev/null || echo refused"), env, cwd=work)
    assert res.stdout == "refused\n"
    assert not list((work / "pypack-home" / "tmp").iterdir())


def test_ctrl_c_reaches_the_app(actor: Actor, work: Path) -> None:
    if actor.user is not None:
        pytest.skip("signals are sent to pypack itself, not through runuser")
    env = _import(actor, work)
    app = "trap 'echo app got INT; exit 5' INT; echo started; while true; do sleep 1; done"
    argv = actor.argv(actor.pypack("run", IMAGE, "--", "-c", app), env)
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        # `env -i` execs python: the process we started is pypack itself
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "app got INT" in out, err
    assert proc.returncode == 5
