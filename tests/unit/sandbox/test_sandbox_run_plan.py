"""Planning ``pypack run``: argv, env, workdir and user from an image config (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import UsageError
from lifecycle.oci.config import RunConfig
from lifecycle.sandbox.run import (
    DEFAULT_PATH,
    Account,
    RunOptions,
    RunPlan,
    check_process,
    parse_env,
    plan_run,
    resolve_user,
)

PASSWD = "root:x:0:0:root:/root:/bin/sh\ncnb:x:1000:1001:CNB:/home/cnb:/bin/sh\n# c\nbad\n"
GROUP = "root:x:0:\ncnb:x:1001:\nstaff:x:50:\n"
ACCOUNTS = Account(PASSWD, GROUP)


@pytest.mark.parametrize(("user", "want"), [
    (None, (0, 0, "/root")), ("", (0, 0, "/root")), ("cnb", (1000, 1001, "/home/cnb")),
    ("1000", (1000, 1001, "/home/cnb")), ("1000:50", (1000, 50, "/home/cnb")),
    ("cnb:staff", (1000, 50, "/home/cnb")), ("2000", (2000, 0, None)),
    ("2000:3000", (2000, 3000, None)),
])
def test_resolve_user(user: str | None, want: tuple[int, int, str | None]) -> None:
    assert resolve_user(user, ACCOUNTS) == want


@pytest.mark.parametrize(("user", "match"), [("nobody", "not in the image's /etc/passwd"),
                                             ("cnb:nogroup", "not in the image's /etc/group")])
def test_resolve_user_unknown_names(user: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        resolve_user(user, ACCOUNTS)


def test_parse_env() -> None:
    assert parse_env(["A=1", "B=x=y", "C=", "junk", "=v"]) == {"A": "1", "B": "x=y", "C": ""}


CNB = RunConfig(user="1000:1001", env=("CNB_APP_DIR=/workspace", "PATH=/cnb/process:/bin"),
                entrypoint=("/cnb/process/web",), working_dir="/workspace")


def test_plan_default_process() -> None:
    plan = plan_run(CNB, RunOptions("app"), ACCOUNTS, {})
    assert plan == RunPlan(("/cnb/process/web",), "/workspace",
                           {"CNB_APP_DIR": "/workspace", "PATH": "/cnb/process:/bin",
                            "HOME": "/home/cnb"}, 1000, 1001)


def test_plan_process_type_and_args() -> None:
    plan = plan_run(CNB, RunOptions("app", process="worker", args=("--fast",)), ACCOUNTS, {})
    assert plan.argv == ("/cnb/process/worker", "--fast")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".."])
def test_plan_refuses_bad_process_types(bad: str) -> None:
    with pytest.raises(UsageError, match="not a process type"):
        plan_run(CNB, RunOptions("app", process=bad), ACCOUNTS, {})


def test_plan_args_replace_cmd_and_env_overrides() -> None:
    cfg = RunConfig(entrypoint=("/bin/sh",), cmd=("-c", "echo hi"), env=("A=1",))
    opts = RunOptions("img", args=("-c", "exit 3"),
                      env={"A": "2", "FROM_HOST": None, "ABSENT": None})
    plan = plan_run(cfg, opts, Account(), {"FROM_HOST": "h"})
    assert plan.argv == ("/bin/sh", "-c", "exit 3")
    assert plan.env == {"A": "2", "FROM_HOST": "h", "PATH": DEFAULT_PATH, "HOME": "/"}
    assert plan.cwd == "/" and (plan.uid, plan.gid) == (0, 0)
    assert plan_run(cfg, RunOptions("img"), Account(), {}).argv == ("/bin/sh", "-c", "echo hi")


def test_plan_without_anything_to_run() -> None:
    with pytest.raises(UsageError, match="no Entrypoint or Cmd"):
        plan_run(RunConfig(), RunOptions("img"), Account(), {})


def test_check_process_lists_what_the_image_has(tmp_path: Path) -> None:
    (tmp_path / "cnb/process").mkdir(parents=True)
    (tmp_path / "cnb/process/web").write_text("#!/bin/sh\n")
    (tmp_path / "cnb/process/worker").write_text("#!/bin/sh\n")
    plan = plan_run(CNB, RunOptions("app", process="web"), ACCOUNTS, {})
    check_process(tmp_path, plan, RunOptions("app", process="web"))
    bad = RunOptions("app", process="cron")
    with pytest.raises(UsageError, match="no process type 'cron'; it has: web, worker"):
        check_process(tmp_path, plan_run(CNB, bad, ACCOUNTS, {}), bad)
