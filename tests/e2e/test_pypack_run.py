"""``pypack run`` for real, as root and as a non-root user: output, exit codes, --process,
--env, a throwaway writable workdir, and Ctrl-C forwarded to the app.

Each test imports a busybox image into the actor's own local store with ``pypack image
import`` and runs it with ``pypack run`` (subprocesses, through ``runuser`` for the user).
An app image built twice with the small test builder (as in test_pypack_build.py) shows that
a rebuild's run reuses the unpacked run image and unpacks only the app layers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pyrootfs_rig import builder_toml, import_stack, python_rootfs
from rootfs_rig import busybox_rootfs
from test_sandbox import (  # noqa: F401  (fixtures)
    Actor,
    actor_fixture,
    impl_fixture,
    nonroot_actor_fixture,
    work_fixture,
)

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


def test_run_prints_output_and_propagates_the_exit_code(actor: Actor, work: Path,
                                                        impl: str) -> None:
    env = {**_import(actor, work), "PYPACK_SANDBOX_IMPL": impl}
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


def test_ctrl_c_reaches_the_app(actor: Actor, work: Path, impl: str) -> None:
    if actor.user is not None:
        pytest.skip("signals are sent to pypack itself, not through runuser")
    env = {**_import(actor, work), "PYPACK_SANDBOX_IMPL": impl}
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


# --- an app image rebuilt: the run image layers are unpacked once ------------------------------
REPO = Path(__file__).resolve().parents[2]
HELLO_BP = REPO / "tests" / "testdata" / "exporter" / "buildpacks" / "test_hello" / "0.1.0"
BUILDER = "test/py-builder"
APP = """import os, sys
with open("made.txt", "w") as f:
    f.write("written")
dep = open(os.environ["DEP_FILE"]).read().strip()
print("VERSION", sys.argv[1:], open("made.txt").read(), dep)
"""


def _pypack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([sys.executable, "-m", "lifecycle.cli.main", *args], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f"{args}: {res.stdout}{res.stderr}"
    return res


@pytest.fixture(scope="module", name="builder_env")
def builder_env_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for a fresh PYPACK_HOME holding the small test builder (host-made
    Python build/run image + the exporter's fixture buildpack, as test_pypack_build.py)."""
    from lifecycle import client

    home = tmp_path_factory.mktemp("run-home")
    env = dict(os.environ, PYPACK_HOME=str(home))
    import_stack(python_rootfs(tmp_path_factory.mktemp("pyroot")),
                 ("test/py-build", "test/py-run"), client.Context(store_root=str(home)))
    config = builder_toml(tmp_path_factory.mktemp("builder"), HELLO_BP, "test/hello",
                          "test/py-build", "test/py-run")
    _pypack(env, "builder", "create", BUILDER, "--config", str(config))
    return env


def test_rebuilt_app_reuses_the_unpacked_run_image(builder_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    rootfs = Path(builder_env["PYPACK_HOME"]) / "rootfs"
    app = tmp_path / "app"
    app.mkdir()
    for version in ("one", "two"):
        (app / "app.py").write_text(APP.replace("VERSION", f"version {version}"))
        built = _pypack(builder_env, "build", "runme", "--builder", BUILDER, "--path", str(app))
        digest = built.stdout.rpartition("(sha256:")[2].partition(")")[0]
        before = {p.name for p in rootfs.iterdir()}
        ran = _pypack(builder_env, "run", "runme", "--", "x")
        assert ran.stdout == f"version {version} ['x'] written dependency payload\n", ran.stderr
        added = {p.name for p in rootfs.iterdir()} - before
        bases = sorted(n for n in before | added if n.startswith("base-"))
        assert len(bases) == 1
        if version == "one":
            assert added == {f"app-{digest}", bases[0]}
        else:
            assert added == {f"app-{digest}"}  # the run image's layers were not unpacked again
        assert not (rootfs / f"app-{digest}" / "workspace" / "made.txt").exists()
