"""Environment-file rules and the layer path variables (Buildpack API 0.7-0.12).

`buildpack.md` "Environment": "Layer Paths", "Provided by the Platform", "Provided by the
Buildpacks" / "Environment Variable Modification Rules"; `platform.md` "Buildpack Environment"
(operator-defined variables). cnb-digest §2.8 and §2.11. The base environment and the
user-provided ``<platform>/env/`` values are ``lifecycle.buildpack.procenv``'s job.

The core is pure: an environment is a ``dict[str, str]`` value and every function returns a new
one. ``read_env_dir`` and ``read_layer_env`` are the thin edge that reads files. The same rules
serve build time (``env/`` + ``env.build/``, ``BUILD_ROOT_DIRS``) and launch time (``env/`` +
``env.launch/`` + ``env.launch/<process>/``, ``LAUNCH_ROOT_DIRS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

Action = Literal["override", "default", "append", "prepend"]
ACTIONS: frozenset[str] = frozenset({"override", "default", "append", "prepend"})

PATH_SEP = os.pathsep

BUILD_ROOT_DIRS: Mapping[str, tuple[str, ...]] = {
    "bin": ("PATH",),
    "lib": ("LD_LIBRARY_PATH", "LIBRARY_PATH"),
    "include": ("CPATH",),
    "pkgconfig": ("PKG_CONFIG_PATH",),
}
"""Layer sub-directory -> the variables it is prepended to at build time."""

LAUNCH_ROOT_DIRS: Mapping[str, tuple[str, ...]] = {
    "bin": ("PATH",),
    "lib": ("LD_LIBRARY_PATH",),
}
"""Layer sub-directory -> the variables it is prepended to at launch time."""

PATH_VARS: frozenset[str] = frozenset(v for vs in BUILD_ROOT_DIRS.values() for v in vs)
"""The POSIX path variables (`platform.md` "POSIX Path Variables")."""

@dataclass(frozen=True, slots=True)
class EnvOp:
    """One env file: set variable ``name`` by ``action`` to ``value``.

    ``delim`` is the contents of ``<name>.delim`` in the same directory, if there is one.
    """

    name: str
    action: Action
    value: str
    delim: str | None = None


@dataclass(frozen=True, slots=True)
class LayerEnv:
    """What one layer contributes: its path, the root dirs it has, its env-file directories.

    ``env_dirs`` are the directories that apply, in application order (``env/`` first), each as
    a mapping file name -> contents.
    """

    path: str
    root_dirs: frozenset[str] = frozenset()
    env_dirs: tuple[Mapping[str, str], ...] = ()


# --- pure core ---------------------------------------------------------------------------------
def parse_env_dir(files: Mapping[str, str], default_action: Action) -> tuple[EnvOp, ...]:
    """Turn one env directory (file name -> contents) into operations, in lexical file order.

    The variable name is the file name up to the first ``.``; the rest is the action. Files
    without a suffix take ``default_action``; ``.delim`` files and unknown suffixes are not
    operations themselves.
    """
    ops: list[EnvOp] = []
    for fname in sorted(files):
        name, dot, suffix = fname.partition(".")
        if not name:
            continue
        if not dot:
            action: Action = default_action
        elif suffix in ACTIONS:
            action = cast(Action, suffix)
        else:
            continue
        ops.append(EnvOp(name, action, files[fname], files.get(f"{name}.delim")))
    return tuple(ops)


def apply_op(env: Mapping[str, str], op: EnvOp) -> dict[str, str]:
    """Apply one operation; append/prepend use ``op.delim`` (none: no separator)."""
    out = dict(env)
    current = out.get(op.name, "")
    sep = op.delim or ""
    if op.action == "override":
        out[op.name] = op.value
    elif op.action == "default":
        if current == "":
            out[op.name] = op.value
    elif op.action == "append":
        out[op.name] = current + sep + op.value if current else op.value
    else:
        out[op.name] = op.value + sep + current if current else op.value
    return out


def apply_ops(env: Mapping[str, str], ops: Iterable[EnvOp]) -> dict[str, str]:
    """Apply operations in order."""
    out = dict(env)
    for op in ops:
        out = apply_op(out, op)
    return out


def prepend_path(env: Mapping[str, str], name: str, path: str) -> dict[str, str]:
    """Prepend ``path`` to the path list ``name`` (OS path separator)."""
    out = dict(env)
    current = out.get(name, "")
    out[name] = path + PATH_SEP + current if current else path
    return out


def apply_layer(env: Mapping[str, str], layer: LayerEnv,
                root_map: Mapping[str, tuple[str, ...]] = BUILD_ROOT_DIRS,
                default_action: Action = "override") -> dict[str, str]:
    """Apply everything one layer contributes: root dirs first, then each env directory.

    All operations of a layer are applied before the next layer is considered (spec
    "Delimiter"). Unsuffixed files override for every supported Buildpack API (>= 0.5).
    """
    out = dict(env)
    for sub in sorted(layer.root_dirs):
        for var in root_map.get(sub, ()):
            out = prepend_path(out, var, os.path.join(layer.path, sub))
    for files in layer.env_dirs:
        out = apply_ops(out, parse_env_dir(files, default_action))
    return out


def apply_layers(env: Mapping[str, str], layers: Sequence[LayerEnv],
                 root_map: Mapping[str, tuple[str, ...]] = BUILD_ROOT_DIRS) -> dict[str, str]:
    """Apply layers in the order given (callers pass one buildpack's layers alphabetically)."""
    out = dict(env)
    for layer in layers:
        out = apply_layer(out, layer, root_map)
    return out


def with_operator_env(env: Mapping[str, str], files: Mapping[str, str]) -> dict[str, str]:
    """Apply ``<build-config>/env/`` files: the suffix rules, but no suffix means ``default``."""
    return apply_ops(env, parse_env_dir(files, "default"))


# --- edge: reading directories -----------------------------------------------------------------
def read_env_dir(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read an env directory as file name -> contents (verbatim); missing dir gives ``{}``.

    Sub-directories (and links to directories) are skipped; contents are not trimmed.
    """
    d = Path(path)
    if not d.is_dir():
        return {}
    out: dict[str, str] = {}
    for entry in sorted(d.iterdir()):
        if entry.is_dir():
            continue
        out[entry.name] = entry.read_bytes().decode("utf-8", errors="surrogateescape")
    return out


def read_layer_env(layer_dir: str | os.PathLike[str],
                   env_dir_names: Sequence[str] = ("env", "env.build"),
                   root_map: Mapping[str, tuple[str, ...]] = BUILD_ROOT_DIRS) -> LayerEnv:
    """Read what a layer directory contributes (its root dirs present and its env dirs)."""
    d = Path(layer_dir)
    roots = frozenset(sub for sub in root_map if (d / sub).is_dir())
    dirs = tuple(read_env_dir(d / name) for name in env_dir_names)
    return LayerEnv(str(d), roots, dirs)
