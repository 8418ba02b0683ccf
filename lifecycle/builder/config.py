"""``builder.toml``: pack's builder configuration (cnb-digest §7.4; pack
``builder/config_reader.go``), the input of ``pypack builder create``.

Validated by ``spec/schemas/builder-config.schema.json`` (unknown keys are errors, as in pack),
then checked across keys the way pack's ``ValidateConfig`` does. The legacy ``[stack]`` table and
the newer ``[build] image`` / ``[[run.images]]`` are merged into one value (pack's RFC-0096 merge).
Relative buildpack ``uri`` paths are resolved against the directory of the file. ``[lifecycle]
uri`` names a lifecycle release to put in the builder (``golifecycle``); without it pypack
installs its own. Every error names the file and key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.buildpack.targets import Target
from lifecycle.errors import FileFormatError

PathLike = str | os.PathLike[str]

IMAGE_PREFIXES = ("docker://", "oci:", "oci-layout:", "store:", "docker-archive:")
"""A ``uri`` with one of these prefixes names a buildpackage image, not a file."""

_SUFFIXES = ("", "default", "override", "append", "prepend")


@dataclass(frozen=True, slots=True)
class ModuleRef:
    """A buildpack named in ``[[order.group]]`` or ``[system]``; ``version`` may be empty."""

    id: str
    version: str = ""
    optional: bool = False

    def __str__(self) -> str:
        return f"{self.id}@{self.version}" if self.version else self.id


Group = tuple[ModuleRef, ...]


@dataclass(frozen=True, slots=True)
class BuildpackSource:
    """One ``[[buildpacks]]`` entry. ``path`` is the resolved local file or directory for a
    file ``uri``; ``image`` is set for an image reference; ``id``/``version`` are what the
    entry expects (checked against the buildpack found) or, without a source, what must
    already be on the build image. ``key`` is where it was written (``buildpacks[2]``)."""

    key: str
    uri: str = ""
    path: Path | None = None
    image: str = ""
    id: str = ""
    version: str = ""

    def describe(self) -> str:
        """What the user wrote, for messages."""
        return self.uri or self.image or (f"{self.id}@{self.version}" if self.version
                                          else self.id)


@dataclass(frozen=True, slots=True)
class RunImage:
    """A run image and its mirrors (``[[run.images]]``)."""

    image: str
    mirrors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """One ``[[build.env]]`` entry: the file ``/cnb/build-config/env/<name>[.<suffix>]``."""

    name: str
    value: str = ""
    suffix: str = ""
    delim: str = ""
    exec_env: tuple[str, ...] = ()

    def files(self) -> dict[str, str]:
        """File name -> content under ``/cnb/build-config/env/`` (with ``<name>.delim``)."""
        out = {f"{self.name}.{self.suffix}" if self.suffix else self.name: self.value}
        if self.delim:
            out[f"{self.name}.delim"] = self.delim
        return out


@dataclass(frozen=True, slots=True)
class BuilderConfig:
    """A validated ``builder.toml``. ``warnings`` are pack's non-fatal remarks."""

    path: Path
    build_image: str
    run_images: tuple[RunImage, ...]
    description: str = ""
    buildpacks: tuple[BuildpackSource, ...] = ()
    extensions: tuple[BuildpackSource, ...] = ()
    order: tuple[Group, ...] = ()
    stack_id: str = ""
    lifecycle_version: str = ""
    lifecycle_uri: str = ""
    build_env: tuple[BuildEnv, ...] = ()
    targets: tuple[Target, ...] = ()
    system_pre: Group = ()
    system_post: Group = ()
    warnings: tuple[str, ...] = ()

    def build_config_env(self) -> dict[str, str]:
        """Every ``/cnb/build-config/env/`` file (later entries win, as in pack)."""
        out: dict[str, str] = {}
        for e in self.build_env:
            out.update(e.files())
        return out


def load(path: PathLike) -> BuilderConfig:
    """Read, validate and merge ``builder.toml``; FileFormatError names the file and key."""
    p = Path(path).absolute()
    data = tomlfile.load(p)
    schema.validate(data, "builder-config", p)
    return from_toml(data, p)


def from_toml(data: Mapping[str, Any], path: Path) -> BuilderConfig:
    """A BuilderConfig from a schema-valid document read from ``path``."""
    warnings: list[str] = []
    build = data.get("build", {})
    stack = data.get("stack", {})
    build_image = _build_image(build, stack, path)
    run_images = _run_images(data.get("run", {}), stack, path)
    life = data.get("lifecycle", {})
    if life.get("version") and life.get("uri"):
        raise FileFormatError(f"{path}: lifecycle: declare version or uri, not both")
    order = _groups(data.get("order", ()))
    if not order:
        warnings.append(f"{path}: empty 'order' definition")
    system = data.get("system", {})
    return BuilderConfig(
        path=path, build_image=build_image, run_images=run_images,
        description=data.get("description", ""),
        buildpacks=_sources(data.get("buildpacks", ()), "buildpacks", path),
        extensions=_sources(data.get("extensions", ()), "extensions", path),
        order=order, stack_id=stack.get("id", ""),
        lifecycle_version=life.get("version", ""), lifecycle_uri=life.get("uri", ""),
        build_env=_build_env(build.get("env", ()), path, warnings),
        targets=tuple(Target.from_toml(t) for t in data.get("targets", ())),
        system_pre=_refs(system.get("pre", {}).get("buildpacks", ())),
        system_post=_refs(system.get("post", {}).get("buildpacks", ())),
        warnings=tuple(warnings),
    )


def _build_image(build: Mapping[str, Any], stack: Mapping[str, Any], path: Path) -> str:
    new, old = build.get("image", ""), stack.get("build-image", "")
    if not new and not old:
        raise FileFormatError(f"{path}: build.image: required (or the legacy "
                              "stack.build-image)")
    if new and old and new != old:
        raise FileFormatError(f"{path}: build.image {new!r} and stack.build-image {old!r} "
                              "do not match")
    return str(new or old)


def _run_images(run: Mapping[str, Any], stack: Mapping[str, Any],
                path: Path) -> tuple[RunImage, ...]:
    images = tuple(RunImage(i["image"], tuple(i.get("mirrors", ())))
                   for i in run.get("images", ()))
    legacy = stack.get("run-image", "")
    if not images and not legacy:
        raise FileFormatError(f"{path}: run.images: at least one run image is required (or "
                              "the legacy stack.run-image)")
    if images and legacy and images[0].image != legacy:
        raise FileFormatError(f"{path}: run.images[0].image {images[0].image!r} and "
                              f"stack.run-image {legacy!r} do not match")
    if not images:
        images = (RunImage(legacy, tuple(stack.get("run-image-mirrors", ()))),)
    return images


def _refs(items: Sequence[Mapping[str, Any]]) -> Group:
    return tuple(ModuleRef(r["id"], r.get("version", ""), bool(r.get("optional", False)))
                 for r in items)


def _groups(items: Sequence[Mapping[str, Any]]) -> tuple[Group, ...]:
    return tuple(_refs(g.get("group", ())) for g in items)


def resolve_uri(uri: str, base: Path) -> tuple[Path | None, str]:
    """``(local path, image)`` for a ``uri``: a path (relative to ``base``) or ``file://``
    URI gives a path; an image prefix gives the image; anything else (``http://``,
    ``urn:cnb:registry:``) gives neither and is refused later."""
    if uri.startswith(IMAGE_PREFIXES):
        return None, uri
    if uri.startswith("file://"):
        return Path(uri[len("file://"):]), ""
    if "://" in uri or uri.startswith("urn:"):
        return None, ""
    return Path(os.path.normpath(base / uri)), ""


def _sources(items: Sequence[Mapping[str, Any]], kind: str,
             path: Path) -> tuple[BuildpackSource, ...]:
    out = []
    for i, m in enumerate(items):
        local, image = (resolve_uri(m["uri"], path.parent) if m.get("uri")
                        else (None, m.get("image", "")))
        out.append(BuildpackSource(
            key=f"{kind}[{i}]", uri=m.get("uri", ""), path=local, image=image,
            id=m.get("id", ""), version=m.get("version", "")))
    return tuple(out)


def _build_env(env: Any, path: Path, warnings: list[str]) -> tuple[BuildEnv, ...]:
    if isinstance(env, Mapping):
        return tuple(BuildEnv(k, v) for k, v in sorted(env.items()))
    out: list[BuildEnv] = []
    for i, e in enumerate(env):
        item = BuildEnv(e["name"], e.get("value", ""), e.get("suffix", ""), e.get("delim", ""),
                        tuple(e.get("exec-env", ())))
        if item.suffix not in _SUFFIXES:  # the schema already refuses these
            raise FileFormatError(f"{path}: build.env[{i}].suffix: unknown {item.suffix!r}")
        if item.suffix in ("append", "prepend") and not item.delim:
            raise FileFormatError(f"{path}: build.env[{i}]: suffix {item.suffix!r} needs a "
                                  "'delim'")
        if not item.value:
            warnings.append(f"{path}: build.env[{i}]: empty value for {item.name!r}")
        out.append(item)
    return tuple(out)
