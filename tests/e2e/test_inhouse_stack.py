"""End to end: in-house stacks. A small in-house stack (tests/testdata/stack/inhouse-mini: a test
CA, jq, a user and env) on the mini test stack's images, made with the real mmdebstrap, apt and
dpkg-deb: the images share the base's layers, skopeo and umoci accept them, the unpacked tree
trusts the CA and runs jq, and builds as root, again, and as an unprivileged user give the same
digests. If this run's store holds the default stack, the in-house example stack is built, a
builder made from stacks/inhouse-example/builder.toml, and an app built on it sees the CA."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_fixtures import RegistryServer
from stack_user_rig import USER, ensure_user, run_as, user_python_env

from lifecycle.cli.main import cli
from lifecycle.oci.check import check_image
from lifecycle.stack import cacerts
from lifecycle.store import Store, normalize

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "tests" / "testdata" / "stack"
NAMES = ("pypack/inhouse-mini-build", "pypack/inhouse-mini-run")
BASES = ("pypack/mini-build", "pypack/mini-run")
CA_DEST = "usr/local/share/ca-certificates/pypack-test-ca.crt"


def _need(*tools: str) -> None:
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed")


def _digests(output: str) -> dict[str, str]:
    return dict(line.split("@") for line in output.splitlines() if "@sha256:" in line)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A world-traversable scratch directory (the unprivileged build reads it)."""
    d = Path(tempfile.gettempdir()) / f"pypack-inhouse-e2e-{os.getpid()}-{secrets.token_hex(4)}"
    d.mkdir(mode=0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def built(scratch: Path) -> dict[str, object]:
    """The mini stack, then the in-house stack on it, in a store of their own."""
    _need("mmdebstrap", "apt-get", "dpkg-deb")
    root = scratch / "root"
    for name in ("mini", "inhouse-mini"):
        shutil.copytree(TESTDATA / name, root / name)
    env = {"PYPACK_HOME": str(root / "home")}
    res = CliRunner().invoke(cli, ["stack", "build", str(root / "mini")], env=env)
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["stack", "build", str(root / "inhouse-mini")], env=env)
    assert res.exit_code == 0, res.output
    return {"root": root, "env": env, "digests": _digests(res.output), "output": res.output,
            "store": Store(root / "home")}


def test_images_add_one_layer_and_lock_the_packages(built: dict[str, object]) -> None:
    store = built["store"]
    root = built["root"]
    assert isinstance(store, Store) and isinstance(root, Path)
    for name, base in zip(NAMES, BASES, strict=True):
        img, b = store.image(name), store.image(base)
        check_image(img, name)
        assert [x.digest for x in img.layers()[:-1]] == [x.digest for x in b.layers()]
        cfg = img.config().config
        assert cfg.user == "1000:1000"
        assert any(e.startswith("PYPACK_INHOUSE=") for e in cfg.env)
        assert cfg.labels["io.pypack.stack.base"] == f"{base}@{b.digest()}"
        pkgs = json.loads(cfg.labels["io.buildpacks.base.metadata"])["packages"]
        assert "jq" in pkgs and "python3-minimal" in pkgs
    assert store.image(NAMES[1]).config().config.labels["io.buildpacks.rebasable"] == "true"
    lock = (root / "inhouse-mini" / "stack.lock").read_text()
    assert 'base = "pypack/mini-run"' in lock and '"jq=' in lock and '"libjq1=' in lock


def test_second_build_is_up_to_date_and_rebuild_is_reproducible(
        built: dict[str, object]) -> None:
    root, env = built["root"], built["env"]
    assert isinstance(root, Path) and isinstance(env, dict)
    res = CliRunner().invoke(cli, ["stack", "build", str(root / "inhouse-mini")], env=env)
    assert res.exit_code == 0 and "up to date" in res.output, res.output
    assert _digests(res.output) == built["digests"]
    res = CliRunner().invoke(cli, ["stack", "build", str(root / "inhouse-mini"), "--rebuild"],
                             env=env)
    assert res.exit_code == 0 and "built in" in res.output, res.output
    assert _digests(res.output) == built["digests"]


@pytest.fixture(scope="module")
def rootfs(built: dict[str, object], scratch: Path) -> Path:
    """The in-house run image unpacked by ``umoci unpack --rootless``."""
    _need("skopeo", "umoci")
    store = built["store"]
    assert isinstance(store, Store)
    out = scratch / "umoci"
    out.mkdir()
    ref = normalize(NAMES[1])
    for cmd in (["skopeo", "copy", f"oci:{store.layout.path}:{ref}", f"oci:{out}/layout:run"],
                ["umoci", "unpack", "--rootless", "--image", f"{out}/layout:run",
                 str(out / "bundle")]):
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
    return out / "bundle" / "rootfs"


def test_unpacked_image_trusts_the_ca_and_has_the_package(rootfs: Path) -> None:
    pem = (TESTDATA / "inhouse-mini" / "test-ca.pem").read_bytes()
    certs = rootfs / "etc" / "ssl" / "certs"
    bundle = (certs / "ca-certificates.crt").read_bytes()
    assert pem.strip() in bundle and bundle.count(b"BEGIN CERTIFICATE") == 1
    assert (rootfs / CA_DEST).read_bytes() == pem
    assert os.readlink(certs / "pypack-test-ca.pem") == "/" + CA_DEST
    der = cacerts.pem_certificates(pem, "test-ca.pem")[0]
    assert os.readlink(certs / f"{cacerts.subject_hash(der)}.0") == "pypack-test-ca.pem"
    if shutil.which("openssl"):
        res = subprocess.run(["openssl", "verify", "-no-CApath", "-CAfile",
                              str(certs / "ca-certificates.crt"),
                              str(TESTDATA / "inhouse-mini" / "test-ca.pem")],
                             capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout + res.stderr
    assert (rootfs / "usr" / "bin" / "jq").is_file()
    assert list((rootfs / "usr" / "lib").glob("*/libjq.so.1"))
    assert not (rootfs / "usr" / "share" / "doc" / "jq").exists()  # the base's dpkg filters
    status = (rootfs / "var" / "lib" / "dpkg" / "status").read_text()
    assert "Package: jq\nStatus: install ok installed\n" in status
    assert "Package: python3-minimal\n" in status  # the base's entries stay
    assert "/usr/bin/jq\n" in (rootfs / "var" / "lib" / "dpkg" / "info" / "jq.list").read_text()
    assert "svc:x:1500:1500::/home/svc:" in (rootfs / "etc" / "passwd").read_text()
    assert "svc:x:1500:" in (rootfs / "etc" / "group").read_text()
    assert (rootfs / "home" / "svc").is_dir()


def test_jq_runs_in_the_image(rootfs: Path) -> None:
    """The added libraries are found without an ld.so.cache (Debian's multiarch paths)."""
    _need("bwrap")
    res = subprocess.run(["bwrap", "--bind", str(rootfs), "/", "--proc", "/proc", "--dev",
                          "/dev", "--unshare-all", "--", "/usr/bin/jq", "-n", "[1,2]|add"],
                         capture_output=True, text=True, check=False, timeout=60)
    if res.returncode != 0 and "setting up uid map" in res.stderr:
        pytest.skip(f"bubblewrap cannot run here: {res.stderr.strip()}")
    assert (res.returncode, res.stdout.strip()) == (0, "3"), res.stderr


def test_unprivileged_build_gives_the_same_digests(built: dict[str, object],
                                                   scratch: Path) -> None:
    """As a normal user (``runuser``), from a copy of the store and the lock: same digests."""
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: the other tests ran without root")
    _need("runuser", "useradd")
    pw = ensure_user(USER)
    root = built["root"]
    assert isinstance(root, Path)
    base = scratch / "user"
    base.mkdir()
    shutil.copytree(root / "home" / "images", base / "home" / "images")
    shutil.copytree(root / "inhouse-mini", base / "inhouse-mini")
    env = user_python_env(scratch / "site", base / "home", pw.pw_dir)
    subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(base)], check=True)
    res = run_as(USER, env, "stack", "build", str(base / "inhouse-mini"), "--rebuild")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _digests(res.stdout) == built["digests"]


FROM_ELSEWHERE = """\
id = "io.pypack.stacks.mini"

[build]
image = "pypack/inhouse-oci-build"
base = "oci:layout:build"
env = {{ FROM = "oci" }}

[[build.files]]
src = "test-ca.pem"
dest = "/usr/local/share/ca-certificates/t.crt"

[run]
image = "pypack/inhouse-registry-run"
base = "{run}"
"""


def test_bases_from_an_oci_layout_and_a_registry(built: dict[str, object], scratch: Path,
                                                 registry: RegistryServer) -> None:
    """No packages here (offline after the pull): the base is only read and layered on."""
    from lifecycle.client import Context, open_image, write_image

    store, env = built["store"], built["env"]
    assert isinstance(store, Store) and isinstance(env, dict)
    stack = scratch / "elsewhere"
    stack.mkdir()
    shutil.copy(TESTDATA / "inhouse-mini" / "test-ca.pem", stack)
    ctx = Context(store_root=str(store.root))
    write_image(store.image(BASES[0]), f"oci:{stack / 'layout'}:build", ctx)
    remote = f"{registry.host}/inhouse-e2e/mini-run:latest"
    write_image(store.image(BASES[1]), remote, ctx)
    (stack / "stack.toml").write_text(FROM_ELSEWHERE.format(run=remote))
    res = CliRunner().invoke(cli, ["stack", "build", str(stack)], env=env)
    assert res.exit_code == 0, res.output
    for name, base in (("pypack/inhouse-oci-build", BASES[0]),
                       ("pypack/inhouse-registry-run", BASES[1])):
        img = store.image(name)
        check_image(img, name)
        assert [x.digest for x in img.layers()[:len(store.image(base).layers())]] == \
            [x.digest for x in store.image(base).layers()]
    assert len(store.image("pypack/inhouse-registry-run").layers()) == \
        len(store.image(BASES[1]).layers())  # nothing added: no layer, only config
    assert store.has(remote)  # pulled once into the store
    assert str(open_image(remote, ctx).digest()) == str(store.image(BASES[1]).digest())


def pypack(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lifecycle.cli.main", *args],
                          capture_output=True, text=True, timeout=900, cwd=cwd,
                          stdin=subprocess.DEVNULL)


CHECK = """\
import os, shutil, ssl
pem = open("/usr/local/share/ca-certificates/example-corp-ca.crt").read().strip()
bundle = open("/etc/ssl/certs/ca-certificates.crt").read()
names = [str(c["subject"]) for c in ssl.create_default_context().get_ca_certs()]
print("bundle-has-ca", pem in bundle)
print("ssl-trusts-ca", any("Example Corp Root CA" in n for n in names))
print("jq", shutil.which("jq"))
print("requests-bundle", os.environ.get("REQUESTS_CA_BUNDLE"))
"""


def test_app_on_the_inhouse_example_stack_has_the_ca(tmp_path: Path) -> None:
    """Only when this run's store already holds the default stack (built by the default
    builder tests, or by hand): building it here would take minutes."""
    store = Store()
    if not all(store.has(n) for n in ("pypack/default-build", "pypack/default-run")):
        pytest.skip("the default stack is not in this run's store (pypack stack build default)")
    _need("apt-get", "dpkg-deb", "bwrap")
    stack = tmp_path / "inhouse-example"
    shutil.copytree(REPO / "stacks" / "inhouse-example", stack)  # its lock may be rewritten
    res = pypack("stack", "build", str(stack))
    assert res.returncode == 0, res.stdout + res.stderr
    res = pypack("builder", "create", "example-corp/builder", "--config",
                 str(REPO / "stacks" / "inhouse-example" / "builder.toml"))
    assert res.returncode == 0, res.stdout + res.stderr
    app = tmp_path / "ca-app"
    app.mkdir()
    (app / "check_ca.py").write_text(CHECK)
    (app / "Procfile").write_text("web: python3 check_ca.py\n")
    res = pypack("build", "inhouse-ca-app", "--builder", "example-corp/builder", "--path",
                 str(app))
    assert res.returncode == 0, res.stdout + res.stderr
    res = pypack("run", "inhouse-ca-app", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert "bundle-has-ca True" in lines and "ssl-trusts-ca True" in lines, res.stdout
    assert "jq /usr/bin/jq" in lines
    assert "requests-bundle /etc/ssl/certs/ca-certificates.crt" in lines
