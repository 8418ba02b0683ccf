"""The launcher's thin edge (`platform.md` "launcher"): read, run exec.d, chdir, ``execve``.

``main(argv)`` checks ``CNB_PLATFORM_API`` (exit 11) and the buildpack APIs in metadata.toml
(exit 12), reads metadata.toml and the launch layers, resolves a ``LaunchPlan`` (pure, see
``plan``), runs the exec.d programs from ``<app>``, changes to the plan's directory and replaces
itself with the process, so the process's exit status is the container's. Errors before that
exit 82 (or 11/12) with one line on stderr; ``CNB_LOG_LEVEL=debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from lifecycle import api
from lifecycle.errors import LaunchError, LifecycleError
from lifecycle.launch import execd, layers, metadata
from lifecycle.launch.plan import LaunchPlan, Settings, resolve
from lifecycle.launch.shell import APP_PROFILE


def prepare(argv0: str, args: Sequence[str], environ: Mapping[str, str]) -> LaunchPlan:
    """Check APIs, read metadata.toml and the layers, and resolve the plan (no exec.d yet)."""
    api.check_platform_api(environ.get("CNB_PLATFORM_API"))
    settings = Settings.from_environ(environ)
    md = metadata.load(settings.metadata_path)
    for bp in md.buildpacks:
        api.check_buildpack_api(bp.api, bp.id)
    scanned = layers.scan(settings.layers_dir, md.buildpacks)
    profile = os.path.join(settings.app_dir, APP_PROFILE)
    return resolve(md, scanned, argv0, args, environ,
                   app_profile=profile if os.path.isfile(profile) else None)


def _chdir(path: str, what: str) -> None:
    try:
        os.chdir(path)
    except OSError as exc:
        raise LaunchError(f"cannot change to {what} {path}: {exc.strerror}") from exc


def run_execd(plan: LaunchPlan) -> LaunchPlan:
    """Run the plan's exec.d programs in order, each seeing the previous ones' output."""
    for program in plan.execd:
        plan = plan.with_env(execd.run(program, plan.env))
    return plan


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_program(name: str, search_path: str) -> str:
    """``name`` itself if it holds a ``/``, else its first executable match on ``search_path``."""
    if "/" in name:
        if not _executable(name):
            raise LaunchError(f"command {name!r} is not an executable file")
        return name
    for entry in search_path.split(":"):
        candidate = os.path.join(entry or ".", name)
        if _executable(candidate):
            return candidate
    raise LaunchError(f"command {name!r} was not found on PATH ({search_path})")


def exec_plan(plan: LaunchPlan) -> NoReturn:
    """Change to the plan's directory and ``execve`` its program; LaunchError if that fails."""
    _chdir(plan.cwd, "working directory")
    program = plan.program
    if plan.direct:
        program = find_program(program, plan.env.get("PATH", ""))
    elif not _executable(program):
        raise LaunchError(f"{program} is required to launch a shell process but was not found")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(program, list(plan.argv), dict(plan.env))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise LaunchError(f"cannot execute {program}: {reason}") from exc


def launch(argv0: str, args: Sequence[str], environ: Mapping[str, str]) -> NoReturn:
    """Do the whole launch; returns only by raising."""
    plan = prepare(argv0, args, environ)
    for warning in plan.warnings:
        sys.stderr.write(f"Warning: {warning}\n")
    _chdir(Settings.from_environ(environ).app_dir, "app directory")
    exec_plan(run_execd(plan))


def _fail(exc: BaseException, code: int, environ: Mapping[str, str]) -> int:
    message = " ".join(str(exc).split("\n")) or type(exc).__name__
    sys.stderr.write(f"ERROR: failed to launch: {message}\n")
    if environ.get("CNB_LOG_LEVEL", "").lower() == "debug":
        import traceback  # only when asked: keeps start-up light

        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.flush()
    return code


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Launch as called by ``argv`` (``argv[0]`` picks the process type); return an exit code.

    Returns only on failure: on success the process replaces the launcher.
    """
    args = list(sys.argv if argv is None else argv)
    env = os.environ if environ is None else environ
    try:
        launch(args[0] if args else "launcher", args[1:], env)
    except LifecycleError as exc:
        return _fail(exc, exc.exit_code, env)
    except Exception as exc:
        return _fail(exc, LaunchError.exit_code, env)
