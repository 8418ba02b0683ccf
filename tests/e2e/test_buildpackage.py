"""End to end: ``pypack buildpack package`` of a fixture buildpack and a composite to a real
registry, an OCI layout and a ``.cnb`` file; skopeo and ``umoci unpack --rootless`` accept them
and their labels round-trip through ``pypack buildpack inspect``; a builder made from a
builder.toml naming the package by ``docker://``, ``oci:`` and ``store:`` shows it in
``pypack builder inspect``; and a buildpack made by ``pypack buildpack new`` (bash and Python),
packaged and fetched back, passes the lifecycle's ``detector`` and ``builder`` programs run on
the host against its sample app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.buildpack.fetch import resolve_buildpack
from lifecycle.buildpackage import metadata
from lifecycle.cli.main import cli
from lifecycle.oci.check import check_image

pytestmark = pytest.mark.e2e

TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "buildpackage"


def _pypack(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=180, cwd=cwd,
                          env=env, check=False)
    assert proc.returncode == 0, f"{args}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def _digest(out: str) -> str:
    return out.strip().splitlines()[-1].rsplit("@", 1)[1]


@pytest.fixture(scope="module")
def published(registry: RegistryServer) -> dict[str, str]:
    """The composite in the registry and the store; its digests by where."""
    ref = f"{registry.host}/e2e/bp-meta:1"
    config = str(TESTDATA / "package-meta.toml")
    return {
        "registry": _digest(_pypack("buildpack", "package", ref, "--config", config,
                                    "--publish")),
        "store": _digest(_pypack("buildpack", "package", "e2e/bp-meta:1", "--config",
                                 config)),
        "ref": ref,
    }


def test_registry_package_passes_skopeo_and_round_trips(published: dict[str, str],
                                                        registry: RegistryServer) -> None:
    assert published["registry"] == published["store"]
    info = json.loads(_run("skopeo", "inspect", *registry.skopeo_args(),
                           f"docker://{published['ref']}"))
    assert info["Digest"] == published["registry"]
    assert (info["Os"], len(info["Layers"])) == ("linux", 3)
    data = json.loads(_pypack("buildpack", "inspect", f"docker://{published['ref']}",
                              "--json"))
    assert data["digest"] == published["registry"]
    for name in (metadata.PACKAGE_METADATA, lb.BUILDPACK_LAYERS):
        assert data["labels"][name] == json.loads(info["Labels"][name])
    assert [b["id"] for b in data["buildpacks"]] == ["test/meta", "test/one", "test/two"]


def test_layout_and_cnb_pass_umoci_and_skopeo(tmp_path: Path) -> None:
    lay = tmp_path / "lay"
    d1 = _digest(_pypack("buildpack", "package", f"oci:{lay}:one", "--config",
                         str(TESTDATA / "package-one.toml")))
    check_image(client.open_image(f"oci:{lay}:one", client.Context()))
    bundle = tmp_path / "bundle"
    _run("umoci", "unpack", "--rootless", "--image", f"{lay}:one", str(bundle))
    root = bundle / "rootfs" / "cnb" / "buildpacks" / "test_one" / "1.0.0"
    assert (root / "buildpack.toml").read_text() == \
        (TESTDATA / "bp-one" / "buildpack.toml").read_text()
    assert os.access(root / "bin" / "detect", os.X_OK)
    assert sorted(p.name for p in (bundle / "rootfs").iterdir()) == ["cnb"]
    d2 = _digest(_pypack("buildpack", "package", str(tmp_path / "one.cnb"), "--config",
                         str(TESTDATA / "package-one.toml"), "--format", "file"))
    assert d1 == d2
    info = json.loads(_run("skopeo", "inspect", f"oci-archive:{tmp_path / 'one.cnb'}"))
    assert info["Digest"] == d2
    assert json.loads(info["Labels"][metadata.PACKAGE_METADATA])["id"] == "test/one"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A busybox build image and run image in the local store."""
    rootfs = busybox_rootfs(tmp_path_factory.mktemp("rootfs"))
    _pypack("image", "import", str(rootfs), "--tag", "store:e2e/bpk-build:1", "--user",
            "1000:1000", "--env", "CNB_USER_ID=1000", "--env", "CNB_GROUP_ID=1000",
            "--env", "PATH=/bin")
    _pypack("image", "import", str(rootfs), "--tag", "store:e2e/bpk-run:1", "--user",
            "1001:1001", "--env", "PATH=/bin")
    return "e2e/bpk-build:1", "e2e/bpk-run:1"


@pytest.mark.parametrize("how", ["docker", "oci", "store"])
def test_builder_from_a_package(tmp_path: Path, images: tuple[str, str],
                                published: dict[str, str], how: str) -> None:
    if how == "oci":
        _pypack("image", "copy", f"docker://{published['ref']}", f"oci:{tmp_path}/lay:m")
    uri = {"docker": f"docker://{published['ref']}", "oci": f"oci:{tmp_path}/lay:m",
           "store": "store:e2e/bp-meta:1"}[how]
    build, run = images
    (tmp_path / "builder.toml").write_text(f"""\
[[buildpacks]]
uri = "{uri}"

[[order]]
[[order.group]]
id = "test/meta"

[build]
image = "{build}"

[[run.images]]
image = "{run}"
""")
    name = f"e2e/bpk-builder:{how}"
    _pypack("builder", "create", name, "--config", str(tmp_path / "builder.toml"))
    out = _pypack("builder", "inspect", name)
    for needle in ("test/meta", "test/one", "test/two", "Detection order"):
        assert needle in out, needle
    data = json.loads(_pypack("builder", "inspect", name, "--json"))
    pkg = client.open_image("store:e2e/bp-meta:1", client.Context())
    diff = {str(x.diff_id) for x in pkg.layers()}
    assert {b["layerDiffID"] for b in data["buildpacks"]} == diff
    assert data["order"] == [{"group": [{"id": "test/meta", "version": "0.1.0"}]}]
    builder = client.open_image(f"store:{name}", client.Context())
    assert {x.digest for x in pkg.layers()} <= {x.digest for x in builder.layers()}


def _phase(name: str, *args: str, env: dict[str, str]) -> str:
    return _run(sys.executable, "-m", "lifecycle.cli.phases", name, *args, env=env)


@pytest.mark.parametrize("lang", ["bash", "python"])
def test_new_buildpack_packaged_passes_detector_and_builder(tmp_path: Path, lang: str) -> None:
    bp = tmp_path / "hello"
    _pypack("buildpack", "new", "e2e/hello", "--path", str(bp), "--lang", lang)
    store_name = f"e2e/hello-{lang}:1"
    _pypack("buildpack", "package", store_name, "--config", str(bp / "package.toml"))
    resolved = resolve_buildpack(store_name, client.Context(), tmp_path / "buildpacks")
    assert (resolved.kind, resolved.id) == ("package", "e2e/hello")
    app, layers, platform = tmp_path / "app", tmp_path / "layers", tmp_path / "platform"
    _run("cp", "-R", str(bp / "sample-app"), str(app))
    (platform / "env").mkdir(parents=True)
    layers.mkdir()
    (tmp_path / "order.toml").write_text(
        '[[order]]\n[[order.group]]\nid = "e2e/hello"\nversion = "1.0.0"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env["CNB_PLATFORM_API"] = "0.15"
    common = ("-app", str(app), "-layers", str(layers), "-platform", str(platform),
              "-buildpacks", str(tmp_path / "buildpacks"))
    _phase("detector", *common, "-order", str(tmp_path / "order.toml"), env=env)
    group = tomllib.loads((layers / "group.toml").read_text())
    assert group["group"][0]["id"] == "e2e/hello"
    out = _phase("builder", *common, env=env)
    assert "Creating layer 'greeting'" in out
    md = tomllib.loads((layers / "config" / "metadata.toml").read_text())
    assert [p["type"] for p in md["processes"]] == ["web"]
    layer = layers / "e2e_hello" / "greeting"
    types = tomllib.loads((layers / "e2e_hello" / "greeting.toml").read_text())["types"]
    assert (types["launch"], types["cache"], types.get("build", False)) == (True, True, False)
    greeted = _run("bash", "run.sh", cwd=app,
                   env={**env, "PATH": f"{layer / 'bin'}:{env.get('PATH', '')}"})
    assert greeted.strip() == "Hello, world"
