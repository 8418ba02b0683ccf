"""The stack definition ``stack.toml``: a build image and a run image, each made from Debian
packages (mmdebstrap) or from a base image with packages, files, users and env added on top
(an in-house stack, issue #7; see :mod:`lifecycle.stack.additions`).

Validated by ``spec/schemas/stack.schema.json``; errors name the file and the key. Also finds a
stack by name: ``stacks/NAME`` next to the package (a source checkout) or ``lifecycle/data/stacks``
(package data of an installed wheel). The lock file lives next to the definition (``stack.lock``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lifecycle
from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError, UsageError
from lifecycle.stack.additions import FileSpec, UserSpec, parse_files, parse_users

FILE_NAME = "stack.toml"
LOCK_NAME = "stack.lock"
ROLES = ("build", "run")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class User:
    """The CNB user: name, uid, primary group name and gid."""

    name: str = "cnb"
    uid: int = 1000
    gid: int = 1000
    group: str = "cnb"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base: User | None = None) -> User:
        """Values of ``d`` over ``base`` (default: cnb 1000:1000)."""
        b = base or cls()
        return cls(str(d.get("name", b.name)), int(d.get("uid", b.uid)),
                   int(d.get("gid", b.gid)), str(d.get("group", d.get("name", b.group))))


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """One image of the stack: its ``role`` (build|run), store ``name`` and how it is made:
    by mmdebstrap (``variant``, ``hook_dirs``, ``customize``), or from ``base`` (an image
    location) with ``packages``, ``files`` and ``users`` added in one layer. ``user_explicit``:
    the definition names the CNB user (a based image otherwise keeps its base's)."""

    role: str
    name: str
    variant: str | None
    packages: tuple[str, ...] = ()
    hook_dirs: tuple[Path, ...] = ()
    customize: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    user: User = field(default_factory=User)
    base: str | None = None
    files: tuple[FileSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    user_explicit: bool = False

    def recipe(self) -> dict[str, Any]:
        """What determines the root filesystem (not the config): equal recipes share one run."""
        return {"variant": self.variant, "packages": list(self.packages),
                "hook-dirs": [str(p) for p in self.hook_dirs],
                "customize": list(self.customize),
                "user": [self.user.name, self.user.uid, self.user.group, self.user.gid]}


@dataclass(frozen=True, slots=True)
class Distro:
    """``/etc/os-release`` ID and VERSION_ID, and the suite (codename) to install from."""

    name: str
    version: str
    codename: str


@dataclass(frozen=True, slots=True)
class StackDefinition:
    """A parsed ``stack.toml``; ``path`` is the file, ``raw`` the validated document."""

    path: Path
    id: str
    distro: Distro | None
    build: ImageSpec
    run: ImageSpec
    suites: tuple[str, ...]
    components: tuple[str, ...] = ("main",)
    arch: str | None = None
    mirrors: tuple[str, ...] = ()
    maintainer: str | None = None
    homepage: str | None = None
    description: str | None = None
    source_date_epoch: int | None = None
    path_exclude: tuple[str, ...] = ()
    path_include: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The stack's name: its directory's name."""
        return self.path.parent.name

    @property
    def lock_path(self) -> Path:
        """Where the lock file of this definition lives."""
        return self.path.parent / LOCK_NAME

    def images(self) -> tuple[ImageSpec, ImageSpec]:
        """(build, run)."""
        return self.build, self.run

    def debian_distro(self) -> Distro:
        """``[distro]``, which images made by mmdebstrap need (checked when parsing)."""
        if self.distro is None:
            raise FileFormatError(f"{self.path}: distro: required for images made from "
                                  "Debian packages")
        return self.distro

    def identity(self) -> dict[str, Any]:
        """Everything that determines the images except the mirror (the cache key's input)."""
        return {k: v for k, v in self.raw.items() if k != "mirror"}


def _image(role: str, d: Mapping[str, Any], path: Path, user: User,
           user_explicit: bool) -> ImageSpec:
    base_dir = path.parent
    dirs = tuple((base_dir / p).resolve() if not os.path.isabs(p) else Path(p)
                 for p in d.get("hook-dirs", ()))
    variant = d.get("variant")
    return ImageSpec(
        role=role, name=str(d["image"]), variant=None if variant is None else str(variant),
        packages=tuple(d.get("packages", ())), hook_dirs=dirs,
        customize=tuple(d.get("customize", ())), env=dict(d.get("env", {})),
        description=d.get("description"), user=User.from_dict(d.get("user", {}), user),
        base=_base_location(d.get("base"), base_dir),
        files=parse_files(d.get("files", ()), base_dir, f"{path}: {role}.files"),
        users=parse_users(d.get("users", ()), f"{path}: {role}.users"),
        user_explicit=user_explicit or "user" in d)


def _base_location(value: str | None, base_dir: Path) -> str | None:
    """``oci:DIR`` and ``docker-archive:FILE`` relative to the stack directory made absolute."""
    if value is None:
        return None
    for prefix in ("oci:", "docker-archive:"):
        if value.startswith(prefix) and not value[len(prefix):].startswith("/"):
            return prefix + str((base_dir / value[len(prefix):]).absolute())
    return value


def parse(data: Mapping[str, Any], path: Path) -> StackDefinition:
    """A definition from the TOML document ``data`` read from ``path`` (schema-checked here)."""
    schema.validate(data, "stack", path)
    distro = (Distro(**{k: str(v) for k, v in data["distro"].items()})
              if "distro" in data else None)
    apt = data.get("apt", {})
    mirror = data.get("mirror", ())
    user = User.from_dict(data.get("user", {}))
    explicit = "user" in data
    dpkg = data.get("dpkg", {})
    defn = StackDefinition(
        path=path, id=str(data["id"]), distro=distro,
        build=_image("build", data["build"], path, user, explicit),
        run=_image("run", data["run"], path, user, explicit),
        suites=tuple(apt.get("suites", () if distro is None else (distro.codename,))),
        components=tuple(apt.get("components", ("main",))), arch=data.get("arch"),
        mirrors=(mirror,) if isinstance(mirror, str) else tuple(mirror),
        maintainer=data.get("maintainer"), homepage=data.get("homepage"),
        description=data.get("description"), source_date_epoch=data.get("source-date-epoch"),
        path_exclude=tuple(dpkg.get("path-exclude", ())),
        path_include=tuple(dpkg.get("path-include", ())), raw=dict(data))
    _check(defn)
    return defn


def _check(defn: StackDefinition) -> None:
    if defn.distro is not None and defn.distro.codename not in defn.suites:
        raise FileFormatError(f"{defn.path}: apt.suites: must contain distro.codename "
                              f"{defn.distro.codename!r}")
    if defn.build.name == defn.run.name:
        raise FileFormatError(f"{defn.path}: run.image: must differ from build.image")
    for spec in defn.images():
        _check_kind(defn, spec)
    for spec in defn.images():
        for d in spec.hook_dirs:
            if not d.is_dir():
                raise FileFormatError(f"{defn.path}: {spec.role}.hook-dirs: {d} is not a "
                                      "directory")


def _check_kind(defn: StackDefinition, spec: ImageSpec) -> None:
    """An image is made either by mmdebstrap or from a base image, never both."""
    raw = defn.raw.get(spec.role, {})
    if spec.base is None:
        if spec.variant is None:
            raise FileFormatError(f"{defn.path}: {spec.role}: needs 'variant' (made from "
                                  "Debian packages) or 'base' (an image to start from)")
        for key in ("files", "users"):
            if key in raw:
                raise FileFormatError(f"{defn.path}: {spec.role}.{key}: only with "
                                      f"{spec.role}.base (use customize hooks with mmdebstrap)")
        if defn.distro is None:
            raise FileFormatError(f"{defn.path}: distro: required for {spec.role} (made from "
                                  "Debian packages)")
        return
    for key in ("variant", "hook-dirs", "customize"):
        if key in raw:
            raise FileFormatError(f"{defn.path}: {spec.role}.{key}: not allowed with "
                                  f"{spec.role}.base (mmdebstrap options)")


def load(path: str | os.PathLike[str]) -> StackDefinition:
    """Read and validate ``stack.toml`` at ``path``."""
    p = Path(path).absolute()
    return parse(tomlfile.load(p), p)


def stacks_dirs() -> list[Path]:
    """Where named stacks are looked up: the checkout's ``stacks/``, then package data."""
    pkg = Path(lifecycle.__file__).resolve().parent
    return [d for d in (pkg.parent / "stacks", pkg / "data" / "stacks") if d.is_dir()]


def locate(name_or_dir: str) -> Path:
    """The ``stack.toml`` for ``name_or_dir``: a file, a directory holding one, or the name of
    a stack in :func:`stacks_dirs`; UsageError listing the known names otherwise."""
    p = Path(name_or_dir)
    if p.is_file():
        return p.absolute()
    if (p / FILE_NAME).is_file():
        return (p / FILE_NAME).absolute()
    if _NAME.match(name_or_dir):
        for d in stacks_dirs():
            if (d / name_or_dir / FILE_NAME).is_file():
                return d / name_or_dir / FILE_NAME
    known = sorted({c.name for d in stacks_dirs() for c in d.iterdir()
                    if (c / FILE_NAME).is_file()})
    raise UsageError(f"no stack {name_or_dir!r}: not a {FILE_NAME}, a directory with one, or "
                     f"a known stack name ({', '.join(known) or 'none found'})")
