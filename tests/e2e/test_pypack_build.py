"""End to end: ``pypack build`` with a small builder (host-made Python build/run image + the
exporter's fixture buildpack), buildpacks in the bubblewrap sandbox, the image in the local
store, run by ``pypack run`` and by podman (from a docker-archive and, with ``--publish``,
from the real registry); unchanged rebuilds give the same digest and upload nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from pyrootfs_rig import builder_toml, import_stack, python_rootfs
from registry_fixtures import RegistryServer

from lifecycle import client

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "testdata" / "exporter"
REPO = Path(__file__).resolve().parents[2]
BUILDER = "test/py-builder"
HELLO = DATA / "buildpacks" / "test_hello" / "0.1.0"


def pypack(*args: str, env: Mapping[str, str] | None = None,
           cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lifecycle.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd,
                          env=dict(env or os.environ))


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> str:
    import_stack(python_rootfs(tmp_path_factory.mktemp("pyroot")),
                 ("test/py-build", "test/py-run"))
    config = builder_toml(tmp_path_factory.mktemp("builder"), HELLO, "test/hello",
                          "test/py-build", "test/py-run")
    res = pypack("builder", "create", BUILDER, "--config", str(config))
    assert res.returncode == 0, res.stdout + res.stderr
    return BUILDER


def _digest(out: str) -> str:
    line = next(ln for ln in out.splitlines() if ln.startswith("Successfully built image"))
    return line.split("(")[1].split(")")[0]


def test_build_run_rebuild_in_store(builder: str, podman: Podman,  # noqa: F811
                                    tmp_path: Path) -> None:
    res = pypack("build", "myapp", "--builder", builder, "--path", str(DATA / "app"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "===> BUILDING" in res.stderr or "===> BUILDING" in res.stdout
    assert "deps: building" in res.stdout
    digest = _digest(res.stdout + res.stderr)

    ran = pypack("run", "myapp", "--", "x1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "app says: hello from a layer; args=['x1']" in ran.stdout
    assert "dependency payload" in ran.stdout

    archive = tmp_path / "myapp.tar"
    res = pypack("image", "copy", "myapp", f"docker-archive:{archive}:myapp:latest")
    assert res.returncode == 0, res.stdout + res.stderr
    loaded = subprocess.run(["podman", "load", "-i", str(archive)], env=podman.env,
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    ran = subprocess.run(["podman", "run", "--rm", "localhost/myapp:latest"], env=podman.env,
                         capture_output=True, text=True, timeout=300)
    assert "app says: hello from a layer" in ran.stdout, ran.stderr

    again = pypack("build", "myapp", "--builder", builder, "--path", str(DATA / "app"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "deps: reusing cached layer" in again.stdout
    assert _digest(again.stdout + again.stderr) == digest


def test_publish_and_rebuild_uploads_nothing(builder: str, registry: RegistryServer,
                                             podman: Podman) -> None:  # noqa: F811
    image = f"{registry.host}/pypack-build/app:latest"
    args = ("build", image, "--builder", builder, "--path", str(DATA / "app"), "--publish",
            "--insecure-registry", registry.host)
    res = pypack(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    ran = podman.run(image)
    assert "app says: hello from a layer" in ran.stdout, ran.stderr
    mark = registry.log_mark()
    again = pypack(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert registry.blob_uploads(mark) == 0
    assert _digest(again.stdout + again.stderr) == _digest(res.stdout + res.stderr)


@pytest.mark.parametrize("impl", ["bwrap", "nsexec"])
def test_buildpack_cannot_read_credentials_or_write_outside(builder: str, tmp_path: Path,
                                                             impl: str) -> None:
    """A buildpack that tries to read registry credentials or write outside its dirs fails
    (with bubblewrap, and with pypack's own sandbox for machines without it)."""
    bp = tmp_path / "snoop"
    (bp / "bin").mkdir(parents=True)
    (bp / "buildpack.toml").write_text(
        'api = "0.12"\n[buildpack]\nid = "test/snoop"\nversion = "0.0.1"\n'
        '[[targets]]\nos = "linux"\n')
    (bp / "bin" / "detect").write_text("#!/bin/sh\nexit 0\n")
    secret_dir = tmp_path / "docker"
    secret_dir.mkdir()
    (secret_dir / "config.json").write_text('{"auths": {"x": {"auth": "c2VjcmV0OnNlY3JldA=="}}}')
    (bp / "bin" / "build").write_text(
        "#!/bin/sh\n"
        f"if cat {secret_dir}/config.json 2>/dev/null; then echo LEAK-FILE; exit 1; fi\n"
        'env | grep -q CNB_REGISTRY_AUTH && { echo LEAK-ENV; exit 1; }\n'
        "if touch /etc/pwned 2>/dev/null; then echo WROTE-ROOT; exit 1; fi\n"
        "if touch /cnb/buildpacks/pwned 2>/dev/null; then echo WROTE-BP; exit 1; fi\n"
        "echo sandbox-ok\n")
    for f in ("detect", "build"):
        (bp / "bin" / f).chmod(0o755)
    env = dict(os.environ, DOCKER_CONFIG=str(secret_dir), PYPACK_SANDBOX_IMPL=impl,
               CNB_REGISTRY_AUTH='{"example.com": "Basic c2VjcmV0OnNlY3JldA=="}')
    res = pypack("build", "snoop", "--builder", builder, "--path", str(DATA / "app"),
                 "--buildpack", str(bp), env=env)
    assert "sandbox-ok" in res.stdout, res.stdout + res.stderr
    assert "LEAK" not in res.stdout and "WROTE" not in res.stdout
    assert "c2VjcmV0" not in res.stdout + res.stderr


def test_report_in_layers(builder: str) -> None:
    """report.toml and metadata.toml are written as the spec says (creator files)."""
    from lifecycle.appbuild import work_key
    from lifecycle.store import home

    res = pypack("build", "reported", "--builder", builder, "--path", str(DATA / "app"))
    assert res.returncode == 0, res.stdout + res.stderr
    layers = home() / "builds" / work_key("reported") / "layers"
    report = tomllib.loads((layers / "report.toml").read_text())
    assert report["image"]["digest"].startswith("sha256:")


def test_rebase_in_store(builder: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    res = pypack("build", "rebaseme", "--builder", builder, "--path", str(DATA / "app"))
    assert res.returncode == 0, res.stdout + res.stderr
    before = client.inspect_image("store:rebaseme", client.Context())["layers"]
    rootfs = python_rootfs(tmp_path_factory.mktemp("pyroot-v2"))
    (rootfs / "etc" / "os-release").write_text("ID=host\nVERSION_ID=2\n")
    client.import_image(client.ImportOptions(
        rootfs=str(rootfs), dest="store:test/py-run", platform="linux/amd64",
        user="1000:1000", env={"PATH": "/usr/local/bin:/usr/bin:/bin"}), client.Context())
    res = pypack("rebase", "rebaseme")  # the run image the app names, now a newer image
    assert res.returncode == 0, res.stdout + res.stderr
    after = client.inspect_image("store:rebaseme", client.Context())["layers"]
    assert [x["digest"] for x in after[1:]] == [x["digest"] for x in before[1:]]
    assert after[0]["digest"] != before[0]["digest"]
    ran = pypack("run", "rebaseme")
    assert "app says: hello from a layer" in ran.stdout, ran.stderr
