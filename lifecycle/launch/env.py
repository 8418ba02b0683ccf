"""The launch environment (`platform.md` "Launch Environment", `buildpack.md` "Environment"). Pure.

1. Hygiene: drop the variables the platform set for the lifecycle (``CNB_LAYERS_DIR``,
   ``CNB_APP_DIR``, ``CNB_PROCESS_TYPE``; also ``CNB_PLATFORM_API`` and ``CNB_DEPRECATION_MODE``,
   which the exporter puts in the image config) and remove ``/cnb/process`` and
   ``/cnb/lifecycle`` entries from ``PATH``.
2. Layers, buildpacks in order: first each of the buildpack's layers, in ascending name order,
   has its ``bin/`` dir prepended to ``PATH`` and its ``lib/`` dir to ``LD_LIBRARY_PATH`` (so
   the later layer comes first: spec "Layer Paths" as the Go lifecycle reads it, digest §2.8,
   and the same as at build time); then, layer by layer, the files of ``env/``,
   ``env.launch/`` and ``env.launch/<type>/`` are applied with the modification rules below.
3. exec.d output (``NAME = "value"`` TOML) overrides.

Env file rules: the variable is the file name up to the first ``.``; the rest picks the action:
none or ``override`` sets, ``default`` sets only an empty or unset variable, ``append`` /
``prepend`` join with the contents of ``<NAME>.delim`` in the same directory (no delimiter
without it, and none when the variable was empty); other suffixes are ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence

from lifecycle.errors import LaunchError
from lifecycle.launch.layers import BuildpackLayers, EnvFile

EXCLUDED = ("CNB_LAYERS_DIR", "CNB_APP_DIR", "CNB_PROCESS_TYPE", "CNB_PLATFORM_API",
            "CNB_DEPRECATION_MODE")
"""Variables removed from the process environment."""

STRIPPED_PATH_DIRS = ("/cnb/process", "/cnb/lifecycle")
"""``PATH`` entries removed from the process environment."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def clean(environ: Mapping[str, str]) -> dict[str, str]:
    """The launcher's own environment minus lifecycle variables and lifecycle ``PATH`` dirs."""
    env = {k: v for k, v in environ.items() if k not in EXCLUDED}
    if "PATH" in env:
        parts = env["PATH"].split(":")
        kept = [p for p in parts if p.rstrip("/") not in STRIPPED_PATH_DIRS]
        env["PATH"] = ":".join(kept)
    return env


def prepend_paths(env: dict[str, str], name: str, dirs: Sequence[str]) -> None:
    """Put ``dirs`` (in the order given) in front of the path list ``name``."""
    if not dirs:
        return
    current = env.get(name, "")
    env[name] = ":".join(dirs) + (":" + current if current else "")


def apply_env_dir(env: dict[str, str], files: Sequence[EnvFile]) -> None:
    """Apply one env directory's files, in the order given, to ``env`` in place."""
    delims = {f.name[:-len(".delim")]: f.value for f in files if f.name.endswith(".delim")}
    for f in files:
        name, _, action = f.name.partition(".")
        if not name:
            continue
        current = env.get(name, "")
        delim = delims.get(name, "")
        if action in ("", "override"):
            env[name] = f.value
        elif action == "default":
            if not current:
                env[name] = f.value
        elif action == "append":
            env[name] = current + delim + f.value if current else f.value
        elif action == "prepend":
            env[name] = f.value + delim + current if current else f.value


def apply_layers(env: dict[str, str], buildpacks: Iterable[BuildpackLayers],
                 process_type: str | None) -> None:
    """Apply every launch layer's paths and env files to ``env`` in place (spec order)."""
    for bp in buildpacks:
        for lay in bp.layers:  # each prepended in turn: the later layer ends up first (digest
            # §2.8 "Layer path vars": as the Go lifecycle, and as the builder does)
            if lay.has_bin:
                prepend_paths(env, "PATH", [lay.path + "/bin"])
            if lay.has_lib:
                prepend_paths(env, "LD_LIBRARY_PATH", [lay.path + "/lib"])
        for layer in bp.layers:
            for files in layer.env_dirs(process_type):
                apply_env_dir(env, files)


def launch_env(environ: Mapping[str, str], buildpacks: Iterable[BuildpackLayers],
               process_type: str | None) -> dict[str, str]:
    """The process environment before exec.d: ``clean(environ)`` plus the layers' changes."""
    env = clean(environ)
    apply_layers(env, buildpacks, process_type)
    return env


def parse_execd_output(text: str, program: str) -> dict[str, str]:
    """Decode an exec.d program's fd-3 output: top-level ``NAME = "value"`` string pairs."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LaunchError(f"exec.d program {program} wrote invalid TOML to fd 3: {exc}") from None
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise LaunchError(f"exec.d program {program}: value of {key!r} must be a string")
        if not _NAME_RE.match(key):
            raise LaunchError(f"exec.d program {program}: {key!r} is not a valid variable name")
        out[key] = value
    return out
