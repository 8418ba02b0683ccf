"""Which process to launch, and with which argv (`platform.md` "launcher", Inputs). Pure.

- Called by a process type's name (``/cnb/process/<type>``, the basename of argv[0]): that
  process, the first one of the type eligible for ``CNB_EXEC_ENV``; none eligible is an error.
  Buildpack API >= 0.9 processes run direct and user args *replace* the default ``args``;
  older ones keep their ``direct`` flag (default false) and user args are *appended*.
- Called by any other name (``launcher``): ``-- cmd args...`` runs ``cmd`` directly;
  ``cmd args...`` runs through bash. With no args at all, pypack runs the process named by the
  deprecated ``CNB_PROCESS_TYPE``, else the buildpack default process (the Go lifecycle errors).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle import api
from lifecycle.errors import LaunchError
from lifecycle.launch.metadata import Metadata, Process


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen start command.

    ``argv`` is the full command line: for a direct launch ``argv[0]`` is the executable (a path
    or a name looked up on PATH); for a shell launch ``argv[0]`` is bash source text and
    ``argv[1:]`` are further tokens. ``process_type`` is None for a user-given command (then no
    ``env.launch/<type>``, ``exec.d/<type>`` or ``profile.d/<type>`` applies).
    """

    argv: tuple[str, ...]
    direct: bool
    process_type: str | None = None
    working_dir: str | None = None
    warnings: tuple[str, ...] = ()


def args_overridable(process: Process, md: Metadata) -> bool:
    """True if ``process`` came from a buildpack whose API lets user args replace ``args`` (B0.9).

    Without a ``buildpack-id`` (the spec's metadata.toml has none) the form decides: a string
    ``command`` or ``direct = false`` marks a pre-0.9 process.
    """
    if process.buildpack_id is None:
        return not (process.command_is_string or process.direct is False)
    bp = md.buildpack(process.buildpack_id)
    if bp is None:
        raise LaunchError(f"process type {process.type!r} was contributed by buildpack "
                          f"{process.buildpack_id!r}, which metadata.toml does not list")
    return api.command_is_array(api.check_buildpack_api(bp.api, bp.id))


def _from_process(process: Process, md: Metadata, user_args: Sequence[str],
                  warnings: tuple[str, ...] = ()) -> Selection:
    if args_overridable(process, md):
        argv = (*process.command, *(user_args or process.args))
        direct = True
    else:
        argv = (*process.command, *process.args, *user_args)
        direct = bool(process.direct)
    return Selection(argv=argv, direct=direct, process_type=process.type,
                     working_dir=process.working_dir, warnings=warnings)


def _find(md: Metadata, process_type: str, exec_env: str) -> Process:
    process = md.find(process_type, exec_env)
    if process is not None:
        return process
    if md.has_type(process_type):
        raise LaunchError(f"process type {process_type!r} is not eligible for execution "
                          f"environment {exec_env!r} (see its exec-env in metadata.toml)")
    known = ", ".join(sorted({p.type for p in md.processes})) or "none"
    raise LaunchError(f"process type {process_type!r} was not found (process types: {known})")


def _no_args(md: Metadata, exec_env: str, env_process_type: str | None) -> Selection:
    if env_process_type:
        warning = ("CNB_PROCESS_TYPE is deprecated; use the entrypoint "
                   f"/cnb/process/{env_process_type} to launch that process type")
        return _from_process(_find(md, env_process_type, exec_env), md, (), (warning,))
    if md.default_process_type:
        return _from_process(_find(md, md.default_process_type, exec_env), md, ())
    raise LaunchError("no process to launch: the image has no default process; give a command "
                      "(launcher [--] <cmd> [<args>...]) or run /cnb/process/<type>")


def select(md: Metadata, argv0: str, args: Sequence[str], *, exec_env: str,
           env_process_type: str | None = None) -> Selection:
    """Decide what to launch from how the launcher was called; LaunchError if nothing fits."""
    name = os.path.basename(argv0)
    if md.has_type(name):
        return _from_process(_find(md, name, exec_env), md, args)
    if not args:
        return _no_args(md, exec_env, env_process_type)
    if args[0] == "--":
        if len(args) < 2 or not args[1]:
            raise LaunchError("launcher --: a command must follow '--'")
        return Selection(argv=tuple(args[1:]), direct=True)
    return Selection(argv=tuple(args), direct=False)
