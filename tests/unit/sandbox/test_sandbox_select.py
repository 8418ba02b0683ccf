"""Choosing a runner for --sandbox, and the errors that say why no sandbox is possible."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lifecycle.errors import SandboxError, UsageError
from lifecycle.sandbox import HostRunner
from lifecycle.sandbox.select import diagnose, explain, make_runner, probe


def _proc(tmp_path: Path, values: dict[str, str]) -> str:
    for rel, value in values.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(value + "\n")
    return str(tmp_path)


def test_diagnose_names_the_sysctl_and_the_fix(tmp_path: Path) -> None:
    root = _proc(tmp_path, {"proc/sys/kernel/unprivileged_userns_clone": "0",
                            "proc/sys/user/max_user_namespaces": "0",
                            "proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"})
    causes = diagnose(root)
    whys = " ".join(why for why, _fix in causes)
    assert "kernel.unprivileged_userns_clone=0" in whys
    assert "user.max_user_namespaces=0" in whys
    assert "apparmor_restrict_unprivileged_userns=1" in whys
    assert any("sysctl -w kernel.unprivileged_userns_clone=1" in fix for _why, fix in causes)


def test_diagnose_quiet_when_allowed(tmp_path: Path) -> None:
    root = _proc(tmp_path, {"proc/sys/user/max_user_namespaces": "96365"})
    assert diagnose(root) == []


def test_explain_message() -> None:
    msg = explain("bwrap cannot create a user namespace: Operation not permitted",
                  [("user.max_user_namespaces=0", "sysctl -w user.max_user_namespaces=15000")])
    assert msg.startswith("cannot run buildpacks in a sandbox: bwrap cannot create")
    assert "user.max_user_namespaces=0 (fix: sysctl -w user.max_user_namespaces=15000)" in msg
    assert msg.endswith("--sandbox none")


def test_probe_reports_a_missing_bwrap(tmp_path: Path) -> None:
    reason = probe(str(tmp_path / "bwrap"))
    assert reason is not None and "cannot run" in reason


def test_none_is_the_host_runner_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lifecycle")
    assert isinstance(make_runner("none", None), HostRunner)
    assert "without isolation" in caplog.text


def test_unknown_mode() -> None:
    with pytest.raises(UsageError, match="auto, userns, none"):
        make_runner("docker", None)


def test_error_type_exit_code() -> None:
    assert SandboxError("x").exit_code == 1


def test_backend_falls_back_to_nsexec_then_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.errors import SandboxError, UsageError
    from lifecycle.sandbox import select
    from lifecycle.sandbox.bwrap import BwrapRunner, NsRunner

    monkeypatch.setattr(select, "probe", lambda: None)
    monkeypatch.setattr(select, "probe_nsexec", lambda: None)
    assert select.backend({}) is BwrapRunner
    assert select.backend({"PYPACK_SANDBOX_IMPL": "nsexec"}) is NsRunner
    monkeypatch.setattr(select, "probe", lambda: "bubblewrap (bwrap) is not installed")
    assert select.backend({}) is NsRunner  # no extra package needed
    with pytest.raises(SandboxError, match="bwrap.*not installed$|not installed;"):
        select.backend({"PYPACK_SANDBOX_IMPL": "bwrap"})
    monkeypatch.setattr(select, "probe_nsexec", lambda: "no unprivileged user namespace (x)")
    with pytest.raises(SandboxError) as e:
        select.backend({})
    assert "not installed; no unprivileged user namespace (x)" in str(e.value)
    assert "--sandbox none" in str(e.value)
    with pytest.raises(UsageError):
        select.backend({"PYPACK_SANDBOX_IMPL": "docker"})


def test_nsexec_probe_here() -> None:
    """This machine allows unprivileged user namespaces (the e2e tests need them too)."""
    from lifecycle.sandbox.select import probe_nsexec

    assert probe_nsexec() is None
