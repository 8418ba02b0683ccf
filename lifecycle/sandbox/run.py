"""``pypack run``: run an image's process rootless, without a container engine.

design.md §4, issue 6 "pypack run". The image (the local store first) is unpacked once into the
store (``rootfs.prepare``: a CNB app image's run image layers once per run image, its app layers
bound over them, ``layered.py``) and its process runs there under bubblewrap (``bwrap.py``) as a
container engine would run it: the config's Entrypoint and Cmd (ARGS replace Cmd), or
``/cnb/process/<TYPE>`` for ``--process TYPE`` (CNB app images; ARGS are appended), with the
config's Env (then ``--env``), WorkingDir and User, the host network, stdin/stdout/stderr of
this process, the exit status passed back and Ctrl-C forwarded.

The root file system is read-only except ``/tmp`` (a private tmpfs) and the working directory:
an app may write there (a SQLite file, a cache), so it gets a throwaway copy of the image's
WorkingDir, bound read-write and deleted afterwards; nothing an app does reaches the stored
image or its unpacked root file system. ``read_only_workdir`` skips the copy (large workdirs).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.errors import UsageError
from lifecycle.oci.config import RunConfig
from lifecycle.sandbox import Command
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.layered import Root, as_root

log = logging.getLogger(__name__)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""PATH when the image sets none (as Docker and podman)."""

PROCESS_DIR = "/cnb/process"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``pypack run`` was asked: ``env`` values of None take the host's value."""

    image: str
    process: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str | None] = field(default_factory=dict)
    host_ca: bool = False
    network: bool = True
    read_only_workdir: bool = False


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The program to run inside: argv, working directory, environment, uid and gid."""

    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    uid: int
    gid: int


@dataclass(frozen=True, slots=True)
class Account:
    """The user and group databases of an image (``/etc/passwd``, ``/etc/group`` text)."""

    passwd: str = ""
    group: str = ""

    def user(self, name_or_id: str) -> tuple[int, int, str] | None:
        """(uid, primary gid, home) of a user given by name or number, if listed."""
        for fields in _entries(self.passwd, 7):
            if name_or_id in (fields[0], fields[2]) and fields[2].isdigit() \
                    and fields[3].isdigit():
                return int(fields[2]), int(fields[3]), fields[5] or "/"
        return None

    def gid(self, name_or_id: str) -> int | None:
        """The gid of a group given by name or number, if listed."""
        for fields in _entries(self.group, 3):
            if name_or_id in (fields[0], fields[2]) and fields[2].isdigit():
                return int(fields[2])
        return None


def _entries(text: str, n: int) -> list[list[str]]:
    rows = (line.split(":") for line in text.splitlines() if line and not line.startswith("#"))
    return [r for r in rows if len(r) >= n]


def resolve_user(user: str | None, accounts: Account) -> tuple[int, int, str | None]:
    """(uid, gid, home) for the config's ``User`` (``name|uid[:group|gid]``, empty = root);
    UsageError for a name the image does not list."""
    name, _, group = (user or "").partition(":")
    if not name:
        root = accounts.user("0")
        uid, gid, home = 0, 0, root[2] if root else None
    elif (entry := accounts.user(name)) is not None:
        uid, gid, home = entry
    elif name.isdigit():
        uid, gid, home = int(name), 0, None
    else:
        raise UsageError(f"image user {name!r} is not in the image's /etc/passwd")
    if group:
        found = accounts.gid(group)
        if found is None and not group.isdigit():
            raise UsageError(f"image group {group!r} is not in the image's /etc/group")
        gid = found if found is not None else int(group)
    return uid, gid, home


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """Image ``Env`` entries (``K=V``) as a mapping (an entry without ``=`` is skipped)."""
    return {k: v for k, eq, v in (i.partition("=") for i in items) if eq and k}


def plan_run(config: RunConfig, opts: RunOptions, accounts: Account,
             host_environ: Mapping[str, str]) -> RunPlan:
    """How to run ``opts`` for an image with run config ``config`` (pure)."""
    if opts.process is not None:
        if not opts.process or "/" in opts.process or opts.process in (".", ".."):
            raise UsageError(f"--process {opts.process!r}: not a process type")
        argv = (f"{PROCESS_DIR}/{opts.process}", *opts.args)
    else:
        argv = (*(config.entrypoint or ()), *(opts.args or config.cmd or ()))
    if not argv:
        raise UsageError(f"image {opts.image} has no Entrypoint or Cmd: give a command after --")
    uid, gid, home = resolve_user(config.user, accounts)
    env = parse_env(config.env)
    for key, value in opts.env.items():
        if value is not None:
            env[key] = value
        elif key in host_environ:
            env[key] = host_environ[key]
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("HOME", home or "/")
    return RunPlan(argv, config.working_dir or "/", env, uid, gid)


# --- edge --------------------------------------------------------------------------------------
def read_inside(rootfs: Path | Root, inside: str) -> str:
    """The text of file ``inside`` in ``rootfs`` (symlinks resolved in it); "" if absent."""
    path = as_root(rootfs).host(inside)
    try:
        return path.read_text("utf-8", "replace") if path.is_file() else ""
    except OSError:
        return ""


def check_process(rootfs: Path | Root, plan: RunPlan, opts: RunOptions) -> None:
    """UsageError naming the available types if ``--process`` names none of them."""
    if opts.process is None:
        return
    root = as_root(rootfs)
    if root.host(plan.argv[0]).exists():
        return
    pdir = root.host(PROCESS_DIR)
    have = sorted(p.name for p in pdir.iterdir()) if pdir.is_dir() else []
    raise UsageError(f"image {opts.image} has no process type {opts.process!r}"
                     + (f"; it has: {', '.join(have)}" if have else " (no /cnb/process)"))


def run_in(rootfs: Path | Root, plan: RunPlan, opts: RunOptions, scratch: Path,
           environ: Mapping[str, str] | None = None) -> int:
    """Run ``plan`` in ``rootfs`` attached to this terminal; returns the exit status.
    ``scratch`` is a host directory for the workdir copy (removed afterwards)."""
    root = as_root(rootfs)
    binds = {b.inside: b for b in root.binds()}
    with tempfile.TemporaryDirectory(prefix="run-", dir=scratch) as tmp:
        workdir = root.resolve(plan.cwd)
        src = root.where(workdir)
        if not opts.read_only_workdir and workdir != "/" and src.is_dir():
            copy = Path(tmp) / "workdir"
            shutil.copytree(src, copy, symlinks=True)
            binds[workdir] = Bind(str(copy), workdir)  # over the upper's read-only bind
        from lifecycle.sandbox.select import backend

        runner = backend(environ)(root.base, list(binds.values()), uid=plan.uid, gid=plan.gid,
                           host_ca=opts.host_ca, network=opts.network, environ=environ,
                           host_paths=False)
        log.debug("running %s in %s as %d:%d", plan.argv, root, plan.uid, plan.gid)
        return runner.run_attached(Command(plan.argv, plan.cwd, plan.env))


def run_image(opts: RunOptions, environ: Mapping[str, str] | None = None,
              insecure_registries: tuple[str, ...] = ()) -> int:
    """Open, unpack and run ``opts.image``; returns the program's exit status."""
    from lifecycle.client import Context, open_image
    from lifecycle.sandbox.rootfs import prepare
    from lifecycle.sandbox.select import require_userns

    env = os.environ if environ is None else environ
    ctx = Context(insecure_registries, environ=environ)
    require_userns()
    img = open_image(opts.image, ctx)
    root = prepare(img, ctx.store)
    accounts = Account(read_inside(root, "/etc/passwd"), read_inside(root, "/etc/group"))
    plan = plan_run(img.config().config, opts, accounts, env)
    check_process(root, plan, opts)
    scratch = ctx.store.root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return run_in(root, plan, opts, scratch, environ)
