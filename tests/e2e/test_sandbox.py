"""The bubblewrap sandbox for real, as root and as a non-root user (design.md §4).

A busybox image is imported into an OCI layout, then a driver process (this user, or a user
made with ``useradd -m`` and reached with ``runuser``) unpacks it into its own store and runs
one shell script inside with ``make_runner("auto", ...)``; the script reports what it can see
and do. Also home to the root/non-root rig ``test_pypack_run.py`` reuses: ``Actor`` and the
``actor`` (parametrised: root, user), ``nonroot_actor`` and ``work`` fixtures.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
USER = "pypack-sbx"
CA_MARK = "PYPACK-TEST-CA"


# --- the rig: run a Python program as root or as a non-root user ------------------------------
@dataclass(frozen=True)
class Actor:
    """Runs commands as ``user`` (None: this process's user) with a clean environment in
    which ``python`` can import pypack from this checkout."""

    name: str
    user: str | None
    python: str
    pythonpath: str

    def env(self, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
               "PYTHONPATH": self.pythonpath, "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def argv(self, argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
        pre = ["runuser", "-u", self.user, "--"] if self.user else []
        return [*pre, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]

    def run(self, argv: Sequence[str], env: Mapping[str, str], *, cwd: Path,
            check: bool = False) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(self.argv(argv, env), cwd=cwd, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=300)
        if check and res.returncode != 0:
            raise AssertionError(f"{argv} as {self.name}: exit {res.returncode}\n"
                                 f"stdout: {res.stdout}\nstderr: {res.stderr}")
        return res

    def pypack(self, *args: str) -> list[str]:
        return [self.python, "-c", "from lifecycle.cli.main import main; main()", *args]

    def workdir(self) -> Iterator[Path]:
        """A fresh directory under /tmp owned by this actor (removed afterwards)."""
        path = Path(tempfile.mkdtemp(prefix="pypack-sbx-"))
        path.chmod(0o755)
        try:
            if self.user:
                shutil.chown(path, self.user, self.user)
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def own(self, path: Path) -> None:
        if self.user:
            subprocess.run(["chown", "-R", f"{self.user}:{self.user}", str(path)], check=True)


def _dependency_dists(name: str, seen: dict[str, importlib.metadata.Distribution]) -> None:
    for req in importlib.metadata.distribution(name).requires or ():
        if "extra ==" in req:
            continue
        m = re.match(r"[A-Za-z0-9._-]+", req)
        if m is None:
            continue
        dep = m.group(0).lower().replace("_", "-")
        if dep in seen:
            continue
        try:
            seen[dep] = importlib.metadata.distribution(dep)
        except importlib.metadata.PackageNotFoundError:
            continue
        _dependency_dists(dep, seen)


def _site_copy(dest: Path) -> None:
    """Copy pypack's installed dependencies (not pypack: the checkout is used) into ``dest``."""
    dists: dict[str, importlib.metadata.Distribution] = {}
    _dependency_dists("pypack", dists)
    for dist in dists.values():
        tops = {f.parts[0] for f in dist.files or () if f.parts and f.parts[0] != ".."}
        for top in tops:
            src = Path(str(dist.locate_file(top)))
            if (dest / top).exists() or not src.exists():
                continue
            if src.is_dir():
                shutil.copytree(src, dest / top, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dest / top)


def _as(user: str, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin",
                           *argv], capture_output=True, text=True, stdin=subprocess.DEVNULL)


def _ensure_user() -> None:
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        if shutil.which("useradd") is None or shutil.which("runuser") is None:
            pytest.skip("useradd/runuser missing: cannot test as a non-root user")
        subprocess.run(["useradd", "-m", USER], check=True, capture_output=True)


@pytest.fixture(scope="session", name="nonroot_actor")
def nonroot_actor_fixture() -> Iterator[Actor]:
    """An Actor for a non-root user: this process's user when not root, else ``USER``
    (made with ``useradd -m`` when missing), with a Python that can import pypack."""
    if os.geteuid() != 0:
        yield Actor("user", None, sys.executable, str(REPO))
        return
    _ensure_user()
    probe = "import click, requests, tomli_w, jsonschema"
    if _as(USER, [sys.executable, "-c", probe]).returncode == 0:
        yield Actor("user", USER, sys.executable, str(REPO))
        return
    # root's interpreter is out of the user's reach (e.g. pyenv under /root): use the system
    # python3 of the same version with a copy of pypack's dependencies
    want = f"{sys.version_info[0]}.{sys.version_info[1]}"
    python = next((p for p in ("/usr/local/bin/python3", "/usr/bin/python3")
                   if os.access(p, os.X_OK)), None)
    if python is None or _as(USER, [python, "-c", "import sys; print('%d.%d' % "
                                    "sys.version_info[:2])"]).stdout.strip() != want:
        pytest.skip(f"no python{want} usable by {USER}")
    site = Path(tempfile.mkdtemp(prefix="pypack-sbx-site-"))
    try:
        site.chmod(0o755)
        _site_copy(site)
        subprocess.run(["chmod", "-R", "a+rX", str(site)], check=True)
        actor = Actor("user", USER, python, f"{site}:{REPO}")
        if _as(USER, [f"PYTHONPATH={actor.pythonpath}", python, "-c", probe]).returncode != 0:
            pytest.skip(f"cannot give {USER} an interpreter that imports pypack's dependencies")
        yield actor
    finally:
        shutil.rmtree(site, ignore_errors=True)


@pytest.fixture(params=["root", "user"], name="actor")
def actor_fixture(request: pytest.FixtureRequest) -> Actor:
    """Each of: root (skipped when not root) and a non-root user."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    if request.param == "root":
        if os.geteuid() != 0:
            pytest.skip("not running as root")
        return Actor("root", None, sys.executable, str(REPO))
    a: Actor = request.getfixturevalue("nonroot_actor")
    return a


@pytest.fixture(params=["bwrap", "nsexec"], name="impl")
def impl_fixture(request: pytest.FixtureRequest) -> str:
    """Each sandbox implementation (``PYPACK_SANDBOX_IMPL``): bubblewrap, pypack's own."""
    impl: str = request.param
    return impl


@pytest.fixture(name="work")
def work_fixture(actor: Actor) -> Iterator[Path]:
    """A scratch directory the actor owns, outside pytest's private temp dirs."""
    yield from actor.workdir()


# --- the scenario -------------------------------------------------------------------------------
DRIVER = r'''
import json, os, sys, tempfile
from lifecycle.client import Context, open_image
from lifecycle.sandbox import Command
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.rootfs import unpack
from lifecycle.sandbox.select import make_runner

cfg = json.loads(sys.argv[1])
ctx = Context()
rootfs = unpack(open_image(cfg["image"], ctx), ctx.store)
binds = [Bind(h, i, ro) for h, i, ro in cfg["binds"]]
out = []
for run in cfg["runs"]:
    runner = make_runner("auto", rootfs, binds, host_ca=run["host_ca"])
    plan_dir = tempfile.mkdtemp(prefix="plan.")
    argv = ("/bin/sh", "-c", cfg["script"], "sh", os.path.join(plan_dir, "plan.toml"))
    res = runner(Command(argv, cfg["cwd"], cfg["env"]))
    plan = os.path.join(plan_dir, "plan.toml")
    out.append({"rc": res.returncode, "output": res.output.decode(),
                "plan": open(plan).read() if os.path.exists(plan) else None})
print(json.dumps({"rootfs": str(rootfs), "uid": os.getuid(), "runs": out}))
'''

SCRIPT = r'''
echo "uid=$(id -u) gid=$(id -g)"
echo "app=$(cat /workspace/in.txt)"
echo "platform=$(cat /platform/env/FOO)"
echo from-build > /layers/out.txt && echo "layers=writable"
touch /workspace/new 2>/dev/null && echo "workspace=writable" || echo "workspace=refused"
touch /platform/new 2>/dev/null && echo "platform_ro=writable" || echo "platform_ro=refused"
touch /rootfile 2>/dev/null && echo "root=writable" || echo "root=refused"
echo t > /tmp/t && echo "tmp=writable"
ls "$HOST_HOME" >/dev/null 2>&1 && echo "home=visible" || echo "home=hidden"
cat "$HOST_HOME/.docker/config.json" >/dev/null 2>&1 && echo "docker=visible" \
  || echo "docker=hidden"
echo "auth=${CNB_REGISTRY_AUTH:-none}"
echo "docker_config=${DOCKER_CONFIG:-none}"
echo "proxy=${HTTPS_PROXY:-none} ${no_proxy:-none}"
echo "ca_env=${SSL_CERT_FILE:-none} ${PIP_CERT:-none}"
grep -q PYPACK-TEST-CA /etc/ssl/certs/ca-certificates.crt 2>/dev/null && echo "ca=host" \
  || echo "ca=absent"
echo "net=$(wget -q -O - "http://$REGISTRY/v2/" 2>&1)"
echo "plan" > "$1" && echo "plan=written"
'''


def _facts(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def _image(work: Path, actor: Actor) -> str:
    """Import a busybox root file system into an OCI layout in ``work``; its locator."""
    from lifecycle import client

    root = busybox_rootfs(work / "bb")
    client.import_image(client.ImportOptions(rootfs=str(root), dest=f"oci:{work}/layout:bb",
                                             entrypoint=("/bin/sh",), env={"PATH": "/bin"}),
                        client.Context())
    actor.own(work)
    return f"oci:{work}/layout:bb"


def test_sandbox_isolation(actor: Actor, work: Path, registry: RegistryServer,
                           impl: str) -> None:
    image = _image(work, actor)
    for d in ("app", "layers", "platform/env", "home/.docker"):
        (work / d).mkdir(parents=True)
    (work / "app/in.txt").write_text("from the app")
    (work / "platform/env/FOO").write_text("bar")
    (work / "home/secret.txt").write_text("secret")
    (work / "home/.docker/config.json").write_text('{"auths": {"r": {"auth": "c2VjcmV0"}}}')
    (work / "ca.pem").write_text(f"-----BEGIN CERTIFICATE-----\n{CA_MARK}\n"
                                 "-----END CERTIFICATE-----\n")
    actor.own(work)
    cfg = {"image": image, "script": SCRIPT, "cwd": str(work / "app"),
           "binds": [[str(work / "app"), "/workspace", True], [str(work / "layers"), "/layers",
                                                                False],
                     [str(work / "platform"), "/platform", True]],
           "env": {"PATH": "/bin", "HOST_HOME": str(work / "home"), "REGISTRY": registry.host,
                   "CNB_REGISTRY_AUTH": '{"r": "Basic c2VjcmV0"}'},
           "runs": [{"host_ca": True}, {"host_ca": False}]}
    env = actor.env(work / "home", {
        "PYPACK_HOME": str(work / "pypack-home"), "DOCKER_CONFIG": str(work / "home/.docker"),
        "HTTPS_PROXY": "http://proxy.invalid:3128", "no_proxy": "localhost,127.0.0.1",
        "SSL_CERT_FILE": str(work / "ca.pem"), "CNB_REGISTRY_AUTH": '{"r": "Basic c2VjcmV0"}',
        "PYPACK_SANDBOX_IMPL": impl})
    res = actor.run([actor.python, "-c", DRIVER, json.dumps(cfg)], env, cwd=work, check=True)
    report = json.loads(res.stdout.splitlines()[-1])
    assert report["uid"] == (pwd.getpwnam(actor.user).pw_uid if actor.user else os.geteuid())
    with_ca, without_ca = report["runs"]
    assert with_ca["rc"] == 0, with_ca["output"]
    facts = _facts(with_ca["output"])
    assert facts["uid"] == "1000 gid=1000"
    assert facts["app"] == "from the app" and facts["platform"] == "bar"
    assert (work / "layers/out.txt").read_text() == "from-build\n"
    assert facts["layers"] == "writable" and facts["tmp"] == "writable"
    assert facts["workspace"] == facts["platform_ro"] == facts["root"] == "refused"
    assert not (work / "app/new").exists()
    assert facts["home"] == facts["docker"] == "hidden"
    assert facts["auth"] == facts["docker_config"] == "none"
    assert facts["proxy"] == "http://proxy.invalid:3128 localhost,127.0.0.1"
    ca = "/etc/ssl/certs/ca-certificates.crt"
    assert facts["ca_env"] == f"{ca} {ca}" and facts["ca"] == "host"
    assert facts["net"] == "{}"  # the host network: the test registry on 127.0.0.1
    assert facts["plan"] == "written" and with_ca["plan"] == "plan\n"
    # --no-host-ca: the image's own (here: no) CA bundle, no CA variables
    off = _facts(without_ca["output"])
    assert off["ca"] == "absent" and off["ca_env"] == "none none"
    # the CA was bound, never written into the unpacked root file system
    rootfs = Path(report["rootfs"])
    assert (rootfs / ca.lstrip("/")).read_text() == ""
    assert not (rootfs / "rootfile").exists()
