"""Compose settings, process selection, layers and env into a ``LaunchPlan`` (`platform.md`
"launcher"). Pure: ``resolve`` takes what the edge read (metadata, the scanned layers, whether
``<app>/.profile`` exists) plus argv and the environment, and touches nothing.

exec.d order follows the spec: every layer's ``exec.d/`` programs (buildpack order, then layer
name, then file name), then every ``exec.d/<type>/`` program in the same order. ``profile.d``
likewise, then ``<app>/.profile``. (The Go lifecycle interleaves generic and typed per layer.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from lifecycle.errors import LaunchError
from lifecycle.launch.env import launch_env
from lifecycle.launch.layers import BuildpackLayers, Layer
from lifecycle.launch.metadata import Metadata
from lifecycle.launch.process import Selection, select
from lifecycle.launch.shell import BASH, bash_argv


def _env_or(environ: Mapping[str, str], key: str, default: str) -> str:
    return environ.get(key) or default


@dataclass(frozen=True, slots=True)
class Settings:
    """The launcher's inputs from its environment (`platform.md` "launcher", Inputs)."""

    layers_dir: str = "/layers"
    app_dir: str = "/workspace"
    exec_env: str = "production"
    platform_api: str | None = None
    process_type: str | None = None
    debug: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``CNB_*`` inputs; empty values count as unset. LaunchError on a bad exec env."""
        exec_env = _env_or(environ, "CNB_EXEC_ENV", "production")
        if "/" in exec_env:
            raise LaunchError(f"CNB_EXEC_ENV={exec_env!r} must not contain '/'")
        return cls(layers_dir=_env_or(environ, "CNB_LAYERS_DIR", "/layers"),
                   app_dir=_env_or(environ, "CNB_APP_DIR", "/workspace"),
                   exec_env=exec_env,
                   platform_api=environ.get("CNB_PLATFORM_API") or None,
                   process_type=environ.get("CNB_PROCESS_TYPE") or None,
                   debug=environ.get("CNB_LOG_LEVEL", "").lower() == "debug")

    @property
    def metadata_path(self) -> str:
        """``<layers>/config/metadata.toml``."""
        return os.path.join(self.layers_dir, "config", "metadata.toml")


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """Everything needed to exec the process, once ``execd`` programs have run.

    ``program`` is what to execve: for a direct launch the command (a path, or a name to look up
    on the final ``PATH``), for a shell launch ``/bin/bash``. ``argv`` is the full argv.
    ``cwd`` is the directory to exec in: the working dir (direct) or ``<app>`` (shell, which
    changes to the working dir itself after sourcing profiles).
    """

    program: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    direct: bool
    process_type: str | None = None
    execd: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def with_env(self, updates: Mapping[str, str]) -> LaunchPlan:
        """A copy whose environment has ``updates`` set (exec.d output)."""
        return replace(self, env={**self.env, **updates})


def working_dir(sel: Selection, app_dir: str) -> str:
    """The process's working directory: its own (relative to ``<app>``) or ``<app>``."""
    return os.path.normpath(os.path.join(app_dir, sel.working_dir or "."))


def _ordered(layers: Sequence[BuildpackLayers], process_type: str | None,
             pick: Callable[[Layer], tuple[str, ...]],
             pick_typed: Callable[[Layer], Mapping[str, tuple[str, ...]]]) -> tuple[str, ...]:
    """All generic programs (buildpack, layer, file order), then all ``<type>`` ones."""
    all_layers = [lay for bp in layers for lay in bp.layers]
    generic = [p for lay in all_layers for p in pick(lay)]
    typed = [p for lay in all_layers for p in pick_typed(lay).get(process_type or "", ())]
    return (*generic, *(typed if process_type else ()))


def resolve(md: Metadata, layers: Sequence[BuildpackLayers], argv0: str, args: Sequence[str],
            environ: Mapping[str, str], *, app_profile: str | None = None) -> LaunchPlan:
    """Decide the launch: metadata + layers + how called + environment -> ``LaunchPlan``."""
    settings = Settings.from_environ(environ)
    sel = select(md, argv0, args, exec_env=settings.exec_env,
                 env_process_type=settings.process_type)
    env = launch_env(environ, layers, sel.process_type)
    execd = _ordered(layers, sel.process_type, lambda x: x.execd, lambda x: x.execd_typed)
    wd = working_dir(sel, settings.app_dir)
    if sel.direct:
        return LaunchPlan(program=sel.argv[0], argv=sel.argv, env=env, cwd=wd, direct=True,
                          process_type=sel.process_type, execd=execd, warnings=sel.warnings)
    profiles = _ordered(layers, sel.process_type, lambda x: x.profiles,
                        lambda x: x.profiles_typed)
    if app_profile:
        profiles = (*profiles, app_profile)
    argv = bash_argv(profiles, wd, sel.argv, argv0)
    return LaunchPlan(program=BASH, argv=argv, env=env, cwd=settings.app_dir, direct=False,
                      process_type=sel.process_type, execd=execd, warnings=sel.warnings)
