"""The bubblewrap command line a Command becomes (lifecycle.sandbox.bwrap), without running it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from lifecycle.errors import SandboxError, UsageError
from lifecycle.sandbox import Command
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.bwrap import BwrapRunner, Mount, bwrap_args, call_tmp_binds, plan_mounts
from lifecycle.sandbox.hostenv import CA_INSIDE


def _pairs(args: list[str] | tuple[str, ...], flag: str, n: int) -> list[tuple[str, ...]]:
    return [tuple(args[i + 1:i + 1 + n]) for i, a in enumerate(args) if a == flag]


@pytest.fixture
def host(tmp_path: Path) -> Path:
    for d in ("rootfs/bin", "rootfs/proc", "rootfs/dev", "rootfs/tmp", "app", "layers",
              "platform", "buildpacks/bp/1/bin"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    return tmp_path


def _binds(host: Path) -> list[Bind]:
    return [Bind(str(host / "app"), "/workspace"), Bind(str(host / "layers"), "/layers"),
            Bind(str(host / "platform"), "/platform", readonly=True),
            Bind(str(host / "buildpacks"), "/cnb/buildpacks", readonly=True)]


def test_plan_mounts_order_and_resolution(host: Path) -> None:
    rootfs = host / "rootfs"
    (rootfs / "etc").symlink_to("usr/etc")
    binds = [Bind("/h/bp", "/cnb/buildpacks"), Bind("/h/cnb", "/cnb"),
             Bind("/h/ca", "/etc/ssl/ca.crt", readonly=True), Bind("/h/t", "/tmp/plan.1")]
    mounts = plan_mounts(str(rootfs), binds, is_dir=lambda p: p != "/h/ca")
    dests = [m.dest for m in mounts]
    assert dests.index("/cnb") < dests.index("/cnb/buildpacks")
    assert dests.index("/tmp") < dests.index("/tmp/plan.1")
    by_dest = {m.dest: m for m in mounts}
    # resolved through the rootfs symlink, and a file mount point
    assert by_dest["/usr/etc/ssl/ca.crt"] == Mount("--ro-bind", "/usr/etc/ssl/ca.crt", "/h/ca",
                                                   is_dir=False, create=True)
    # inside an earlier mount: bwrap makes it there, nothing is created in the rootfs
    assert not by_dest["/cnb/buildpacks"].create and not by_dest["/tmp/plan.1"].create
    assert by_dest["/proc"].op == "--proc" and by_dest["/dev"].op == "--dev"


def test_bwrap_args_shape() -> None:
    mounts = (Mount("--proc", "/proc"), Mount("--bind", "/workspace", "/h/app"))
    args = bwrap_args("/r", mounts, uid=1000, gid=1001, network=True, cwd="/workspace",
                      env={"B": "2", "A": "1"}, info_fd=7)
    assert args[:2] == ["--unshare-all", "--share-net"]
    assert _pairs(args, "--uid", 1) == [("1000",)] and _pairs(args, "--gid", 1) == [("1001",)]
    assert "--unshare-user" in args and "--die-with-parent" in args and "--new-session" in args
    assert _pairs(args, "--ro-bind", 2)[0] == ("/r", "/")
    assert _pairs(args, "--bind", 2) == [("/h/app", "/workspace")]
    assert _pairs(args, "--chdir", 1) == [("/workspace",)]
    assert _pairs(args, "--info-fd", 1) == [("7",)]
    assert args.index("--clearenv") < args.index("--setenv")
    assert _pairs(args, "--setenv", 2) == [("A", "1"), ("B", "2")]
    offline = bwrap_args("/r", (), uid=0, gid=0, network=False, cwd="/", env={},
                         new_session=False)
    assert "--share-net" not in offline and "--new-session" not in offline


def test_bwrap_args_refuses_bad_env_names() -> None:
    with pytest.raises(SandboxError, match="invalid name"):
        bwrap_args("/r", (), uid=0, gid=0, network=True, cwd="/", env={"A=B": "x"})


def test_call_tmp_binds_only_call_scoped_dirs(tmp_path: Path) -> None:
    tmp = str(tmp_path)
    (tmp_path / "plan.abc").mkdir()
    binds = [Bind(str(tmp_path / "layers"), "/layers")]
    argv = ("/bin/detect", "/platform", f"{tmp}/plan.abc/plan.toml", f"{tmp}/top.toml",
            f"{tmp}/layers/bp", f"{tmp}/missing/x", "relative")
    got = call_tmp_binds(argv, binds, tmpdir=tmp)
    assert got == [Bind(f"{tmp}/plan.abc", f"{tmp}/plan.abc")]


def test_invocation_translates_scrubs_and_binds(host: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="plan."))
    try:
        environ = {"HTTPS_PROXY": "http://proxy:3128", "SSL_CERT_FILE": str(host / "ca.pem")}
        runner = BwrapRunner(host / "rootfs", _binds(host), environ=environ, bwrap="/x/bwrap")
        cmd = Command((str(host / "buildpacks/bp/1/bin/detect"), str(host / "platform"),
                       str(tmp / "plan.toml")), str(host / "app"),
                      {"PATH": f"{host}/layers/bp/l/bin:/usr/bin", "CNB_REGISTRY_AUTH": "{}",
                       "CNB_BUILDPACK_DIR": str(host / "buildpacks/bp/1")})
        inv = runner.invocation(cmd)
    finally:
        tmp.rmdir()
    assert inv.argv == ("/cnb/buildpacks/bp/1/bin/detect", "/platform", str(tmp / "plan.toml"))
    env = dict(_pairs(inv.options, "--setenv", 2))  # type: ignore[arg-type]
    assert env["PATH"] == "/layers/bp/l/bin:/usr/bin"
    assert env["CNB_BUILDPACK_DIR"] == "/cnb/buildpacks/bp/1"
    assert env["HTTPS_PROXY"] == "http://proxy:3128"
    assert env["SSL_CERT_FILE"] == env["PIP_CERT"] == env["NODE_EXTRA_CA_CERTS"] == CA_INSIDE
    assert "CNB_REGISTRY_AUTH" not in env
    assert _pairs(inv.options, "--chdir", 1) == [("/workspace",)]
    binds = _pairs(inv.options, "--bind", 2)
    ro = _pairs(inv.options, "--ro-bind", 2)
    assert (str(host / "app"), "/workspace") in binds
    assert (str(tmp), str(tmp)) in binds
    assert (str(host / "platform"), "/platform") in ro
    assert (str((host / "ca.pem").resolve()), CA_INSIDE) in ro
    assert ro[0] == (str((host / "rootfs").resolve()), "/")
    # mount points were made in the root file system, the CA one as an empty file
    rootfs = host / "rootfs"
    assert (rootfs / "workspace").is_dir() and (rootfs / "cnb/buildpacks").is_dir()
    assert (rootfs / CA_INSIDE.lstrip("/")).is_file()
    assert not (rootfs / str(tmp).lstrip("/")).exists()  # lives in the /tmp tmpfs


def test_host_ca_off_and_network_off(host: Path) -> None:
    runner = BwrapRunner(host / "rootfs", _binds(host), host_ca=False, network=False,
                         environ={"SSL_CERT_FILE": str(host / "ca.pem")}, bwrap="/x/bwrap")
    inv = runner.invocation(Command(("/bin/true",), str(host / "app"), {}))
    inside = [dest for _src, dest in _pairs(inv.options, "--ro-bind", 2)]
    assert CA_INSIDE not in inside and "/etc/resolv.conf" not in inside
    assert "--share-net" not in inv.options
    assert "SSL_CERT_FILE" not in dict(_pairs(inv.options, "--setenv", 2))  # type: ignore[arg-type]


def test_host_paths_false_leaves_commands_alone(host: Path) -> None:
    runner = BwrapRunner(host / "rootfs", [Bind(str(host / "app"), "/workspace")],
                         host_paths=False, environ={}, bwrap="/x/bwrap")
    argv = ("/bin/cat", str(host / "app" / "x"), f"{tempfile.gettempdir()}/plan.zz/p")
    inv = runner.invocation(Command(argv, "/workspace", {"V": str(host / "app")}))
    assert inv.argv == argv
    assert dict(_pairs(inv.options, "--setenv", 2))["V"] == str(host / "app")  # type: ignore[arg-type]


def test_missing_bind_source(host: Path) -> None:
    runner = BwrapRunner(host / "rootfs", [Bind(str(host / "nope"), "/workspace")],
                         environ={}, bwrap="/x/bwrap")
    with pytest.raises(SandboxError, match="does not exist"):
        runner.invocation(Command(("/bin/true",), "/", {}))


def test_missing_bwrap_says_what_to_do(host: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(host / "app"))
    with pytest.raises(SandboxError, match=r"apt install bubblewrap.*--sandbox none"):
        BwrapRunner(host / "rootfs")


def test_rootfs_must_exist(host: Path) -> None:
    with pytest.raises(SandboxError, match="not a directory"):
        BwrapRunner(host / "nope", bwrap="/x/bwrap")


def test_user_bind_claiming_a_host_file_wins(host: Path) -> None:
    if not os.path.isfile("/etc/resolv.conf"):
        pytest.skip("no /etc/resolv.conf on this host")
    mine = host / "resolv.conf"
    mine.write_text("nameserver 10.0.0.1\n")
    runner = BwrapRunner(host / "rootfs", [Bind(str(mine), "/etc/resolv.conf", True)],
                         environ={}, bwrap="/x/bwrap")
    assert all(b.inside != "/etc/resolv.conf" for b in runner.host_binds)


def test_tmpfs_directories(host: Path) -> None:
    runner = BwrapRunner(host / "rootfs", _binds(host), environ={}, bwrap="/x/bwrap",
                         tmpfs=["/home/cnb/"])
    inv = runner.invocation(Command(("/bin/true",), str(host / "app"), {}))
    assert _pairs(inv.options, "--tmpfs", 1) == [("/home/cnb",), ("/tmp",)]
    assert (host / "rootfs/home/cnb").is_dir()
    with pytest.raises(UsageError, match="reserved"):
        BwrapRunner(host / "rootfs", environ={}, bwrap="/x/bwrap", tmpfs=["/proc/x"]).invocation(
            Command(("/bin/true",), "/", {}))
