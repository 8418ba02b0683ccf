"""The pure plan of a stack build: mmdebstrap calls, their hooks, and the cache key.

No I/O here. One ``mmdebstrap --mode=unshare --format=tar`` call per distinct root filesystem
recipe (a stack whose build and run images share a recipe runs it once). Hooks:

- downloads: ``sync-in``/``sync-out`` of ``/var/cache/apt/archives`` with the download cache
  (``--skip=essential/unlink`` keeps the essential .debs there until ``sync-out``);
- the CNB user and group appended to ``/etc/passwd``, ``/etc/group`` (and the shadow files), with
  a home directory it owns;
- reproducibility: :data:`REMOVE` lists what must not reach an image: host files mmdebstrap
  copies in (``/etc/hostname``, ``/etc/resolv.conf``), the apt sources naming the mirror, apt
  lists, caches and logs, and files whose content depends on time or install order.

The cache key hashes the definition (without the mirror), the lock, the architecture, the
timestamp and these hooks: images labelled with the same key need no rebuild.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import UsageError
from lifecycle.stack.definition import ImageSpec, StackDefinition, User
from lifecycle.stack.lock import ImageLock, Lock
from lifecycle.stack.sources import AptSource

KEY_FORMAT = 2
"""Bump when the image assembly changes in a way the key's other inputs do not show."""
ARCHIVES = "/var/cache/apt/archives"

REMOVE = (
    "etc/hostname",
    "etc/resolv.conf",
    "etc/apt/sources.list",
    "etc/apt/sources.list.d/*",
    "var/lib/apt/lists/*",
    "var/lib/apt/extended_states",
    "var/cache/apt/archives/*.deb",
    "var/cache/apt/archives/lock",
    "var/cache/apt/*.bin",
    "var/cache/ldconfig/aux-cache",
    "var/cache/debconf/*-old",
    "var/lib/dpkg/*-old",
    "var/lib/dbus/machine-id",
    "var/log/*.log",
    "var/log/apt/*.log",
    "var/log/apt/eipp.log.xz",
)
"""Paths (relative to the root, shell globs) removed from every image: host files, the apt
sources naming the mirror, apt lists/caches/logs, ``*-old`` backups, install-order records."""


@dataclass(frozen=True, slots=True)
class MmdebstrapCall:
    """One mmdebstrap run: ``argv``, extra environment, and the tar it writes."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    output: Path


@dataclass(frozen=True, slots=True)
class BuildInputs:
    """What the plan needs besides the definition."""

    arch: str
    epoch: int
    sources: tuple[AptSource, ...]
    cache_dir: Path
    lock: Lock | None = None


def cleanup_hook() -> str:
    """The customize hook removing :data:`REMOVE` (run by the host's sh, ``$1`` the root) and
    giving the archives directory back to root (``sync-in`` copies the cache's owner)."""
    return (f'cd "$1" && rm -rf -- {" ".join(REMOVE)} && chown 0:0 .{ARCHIVES} '
            f"&& chmod 0755 .{ARCHIVES}")


def user_hook(user: User) -> str:
    """The customize hook adding ``user`` and its group, refusing a clash with existing ones."""
    q = shlex.quote
    name, group, uid, gid = q(user.name), q(user.group), user.uid, user.gid
    home = q(f"/home/{user.name}")
    return "\n".join((
        'set -e; cd "$1"',
        f"if grep -q -e '^{user.name}:' -e '^[^:]*:[^:]*:{uid}:' etc/passwd; then",
        f"  echo 'E: user {user.name} or uid {uid} already in /etc/passwd' >&2; exit 1; fi",
        "sh=/bin/sh; if [ -e usr/bin/bash ] || [ -e bin/bash ]; then sh=/bin/bash; fi",
        f"grep -q -e '^{user.group}:' etc/group || echo {group}:x:{gid}: >> etc/group",
        f'echo "{name}:x:{uid}:{gid}:CNB user:{home}:$sh" >> etc/passwd',
        f"if [ -f etc/shadow ]; then echo '{user.name}:*::0:99999:7:::' >> etc/shadow; fi",
        f"if [ -f etc/gshadow ] && ! grep -q '^{user.group}:' etc/gshadow; then",
        f"  echo '{user.group}:!::' >> etc/gshadow; fi",
        f"mkdir -p .{home} && chown {uid}:{gid} .{home} && chmod 0755 .{home}",
    ))


def include_list(spec: ImageSpec, entry: ImageLock | None) -> tuple[str, ...]:
    """Packages to ask for: the locked ``NAME=VERSION`` set, or the definition's names."""
    return entry.pins() if entry is not None else spec.packages


def _check_path(p: Path, what: str) -> str:
    s = str(p)
    if any(c.isspace() for c in s):
        raise UsageError(f"{what} {s!r} contains whitespace, which mmdebstrap hooks cannot take")
    return s


def mmdebstrap_call(defn: StackDefinition, spec: ImageSpec, inputs: BuildInputs,
                    output: Path) -> MmdebstrapCall:
    """The mmdebstrap run making ``spec``'s root filesystem as a tar at ``output``."""
    cache = _check_path(inputs.cache_dir, "download cache")
    entry = inputs.lock.get(spec) if inputs.lock is not None else None
    include = include_list(spec, entry)
    argv = [
        "mmdebstrap", "--mode=unshare", f"--variant={spec.variant}", "--format=tar",
        f"--architectures={inputs.arch}", "--verbose",
        '--aptopt=Acquire::Languages "none"',
        *(f"--dpkgopt=path-exclude={p}" for p in defn.path_exclude),
        *(f"--dpkgopt=path-include={p}" for p in defn.path_include),
        "--skip=essential/unlink",
        f'--setup-hook=mkdir -p "$1"{ARCHIVES}/',
        f"--setup-hook=sync-in {cache} {ARCHIVES}/",
        *(f"--hook-dir={_check_path(d, 'hook directory')}" for d in spec.hook_dirs),
        *([f"--include={','.join(include)}"] if include else []),
        *(f"--customize-hook={c}" for c in spec.customize),
        f"--customize-hook=sync-out {ARCHIVES} {cache}",
        f"--customize-hook={user_hook(spec.user)}",
        f"--customize-hook={cleanup_hook()}",
        defn.debian_distro().codename, str(output), *(s.line() for s in inputs.sources),
    ]
    return MmdebstrapCall(tuple(argv), build_env(inputs.epoch), output)


def build_env(epoch: int) -> dict[str, str]:
    """Variables set for mmdebstrap (and so for maintainer scripts): the timestamp, and no
    bytecode from imports, so ``py3compile`` writes hash-checked ``.pyc`` files that stay valid
    whatever the layer's mtimes are."""
    return {"SOURCE_DATE_EPOCH": str(epoch), "PYTHONDONTWRITEBYTECODE": "1"}


def recipe_key(spec: ImageSpec, inputs: BuildInputs) -> str:
    """Images with equal keys get the same root filesystem (one mmdebstrap run)."""
    entry = inputs.lock.get(spec) if inputs.lock is not None else None
    doc = {"recipe": spec.recipe(), "include": list(include_list(spec, entry))}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def group_recipes(defn: StackDefinition,
                  inputs: BuildInputs) -> list[tuple[str, list[ImageSpec]]]:
    """The distinct root filesystems to make, each with the images that use it, in order
    (images made from a base image are not made by mmdebstrap)."""
    groups: dict[str, list[ImageSpec]] = {}
    for spec in defn.images():
        if spec.base is not None:
            continue
        groups.setdefault(recipe_key(spec, inputs), []).append(spec)
    return list(groups.items())


def stack_key(defn: StackDefinition, lock: Lock, *, arch: str, epoch: int,
              hooks_digest: str = "", extra: Sequence[Any] = ()) -> str:
    """``sha256:...`` over everything that determines the images, except the mirror."""
    doc = {"format": KEY_FORMAT, "stack": defn.identity(), "lock": lock.to_dict(),
           "arch": arch, "epoch": epoch, "hook-dirs": hooks_digest,
           "hooks": [cleanup_hook(), *(user_hook(s.user) for s in defn.images())],
           "extra": list(extra)}
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()
