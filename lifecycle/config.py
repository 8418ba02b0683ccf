"""pypack's user configuration: default builder, trusted builders, run-image and registry mirrors.

The file is ``$PYPACK_CONFIG``, else ``$XDG_CONFIG_HOME/pypack/config.toml``, else
``~/.config/pypack/config.toml``; a missing file is the empty configuration. Its layout is pack's
``~/.pack/config.toml`` where the two overlap (pack's ``internal/config``)::

    default-builder-image = "registry.example.com/builders/python:1"
    [[trusted-builders]]
    name = "registry.example.com/builders/python:1"
    [[run-images]]                    # local run-image mirrors, tried before the image's own
    image = "docker.io/acme/run:1"
    mirrors = ["registry.example.com/acme/run:1"]
    [registry-mirrors]                # registry host (or "*") -> mirror host[/path]
    "docker.io" = "mirror.example.com"

The file is validated against ``spec/schemas/pypack-config.schema.json``; other keys (pack's
``pull-policy``, ``experimental``, ...) are kept as they are when pypack rewrites the file, with
a warning for keys neither tool knows. Writes are atomic. Edits are pure: each ``with_*``/
``without_*`` method returns a new :class:`PypackConfig`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError, LifecycleError, UsageError
from lifecycle.oci.reference import Reference

log = logging.getLogger(__name__)

ENV_VAR = "PYPACK_CONFIG"
"""Names the config file, overriding the XDG location."""

KNOWN_TRUSTED_BUILDERS = ("pypack/default-builder",)
"""Builders trusted without configuration: the default builder pypack makes from its own
definition."""

_OURS = ("default-builder-image", "trusted-builders", "run-images", "registry-mirrors")
_PACK_ONLY = frozenset({"default-registry-url", "default-registry", "pull-policy",
                        "experimental", "registries", "lifecycle-image", "layout-repo-dir"})
_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the config file is (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "pypack" / "config.toml"


def same_image(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same image (``x`` == ``docker.io/library/x:latest``)."""
    if a == b:
        return True
    try:
        return str(Reference.parse(a)) == str(Reference.parse(b))
    except LifecycleError:
        return False


@dataclass(frozen=True, slots=True)
class RunImageMirrors:
    """Local mirrors of one run image (``[[run-images]]``)."""

    image: str
    mirrors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PypackConfig:
    """The user's configuration. ``extra`` holds keys pypack does not use, written back as is."""

    default_builder: str | None = None
    trusted_builders: tuple[str, ...] = ()
    run_images: tuple[RunImageMirrors, ...] = ()
    registry_mirrors: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    # --- queries --------------------------------------------------------------------------------
    def is_trusted(self, builder: str) -> bool:
        """True for a known trusted builder or one the user trusted."""
        return any(same_image(builder, t)
                   for t in (*KNOWN_TRUSTED_BUILDERS, *self.trusted_builders))

    def all_trusted_builders(self) -> tuple[str, ...]:
        """Known and user-trusted builders, sorted (``trusted-builders list``)."""
        return tuple(sorted({*KNOWN_TRUSTED_BUILDERS, *self.trusted_builders}))

    def run_image_mirrors(self, image: str) -> tuple[str, ...]:
        """The local mirrors configured for run image ``image`` (none if unconfigured)."""
        entry = self._run_image(image)
        return entry.mirrors if entry else ()

    @property
    def local_mirrors(self) -> dict[str, tuple[str, ...]]:
        """Run image -> local mirrors, as ``pypack inspect`` takes them."""
        return {r.image: r.mirrors for r in self.run_images}

    def registry_mirror(self, registry: str) -> str | None:
        """The mirror of ``registry`` (Docker Hub under any of its names), else of ``*``."""
        names = _HUB if registry in _HUB else (registry,)
        for n in names:
            if n in self.registry_mirrors:
                return self.registry_mirrors[n]
        return self.registry_mirrors.get("*")

    def translate(self, name: str) -> str:
        """``name`` on its registry's mirror (``mirror/repo:tag``), or ``name`` unchanged."""
        try:
            ref = Reference.parse(name)
        except LifecycleError:
            return name
        mirror = self.registry_mirror(ref.registry)
        if mirror is None:
            return name
        out = f"{mirror.rstrip('/')}/{ref.repository}{_identifier(ref)}"
        try:
            Reference.parse(out)
        except LifecycleError as e:
            raise UsageError(f"registry mirror {mirror!r} of {ref.registry} gives an invalid "
                             f"reference {out!r}: {e}") from e
        log.info("using mirror %s for %s", out, name)
        return out

    def _run_image(self, image: str) -> RunImageMirrors | None:
        return next((r for r in self.run_images if same_image(r.image, image)), None)

    # --- edits ----------------------------------------------------------------------------------
    def with_default_builder(self, name: str | None) -> PypackConfig:
        """Set (or with None unset) the default builder."""
        return replace(self, default_builder=name or None)

    def with_trusted_builder(self, name: str) -> PypackConfig:
        """Trust ``name`` (unchanged if already trusted)."""
        if self.is_trusted(name):
            return self
        return replace(self, trusted_builders=(*self.trusted_builders, name))

    def without_trusted_builder(self, name: str) -> PypackConfig:
        """Stop trusting ``name``; UsageError for a known trusted builder."""
        kept = tuple(t for t in self.trusted_builders if not same_image(t, name))
        if len(kept) == len(self.trusted_builders) and any(
                same_image(name, k) for k in KNOWN_TRUSTED_BUILDERS):
            raise UsageError(f"builder {name} is a known trusted builder; it cannot be untrusted")
        return replace(self, trusted_builders=kept)

    def with_run_image_mirrors(self, image: str, mirrors: tuple[str, ...]) -> PypackConfig:
        """Add ``mirrors`` to run image ``image``'s local mirrors (deduplicated, sorted)."""
        entry = self._run_image(image)
        merged = tuple(sorted({*(entry.mirrors if entry else ()), *mirrors}))
        new = RunImageMirrors(entry.image if entry else image, merged)
        runs = tuple(new if r is entry else r for r in self.run_images)
        return replace(self, run_images=runs if entry else (*runs, new))

    def without_run_image_mirrors(self, image: str, mirrors: tuple[str, ...] = ()) -> PypackConfig:
        """Remove ``mirrors`` of ``image``; without mirrors (or none left) remove the entry."""
        entry = self._run_image(image)
        if entry is None:
            return self
        left = tuple(m for m in entry.mirrors if m not in mirrors) if mirrors else ()
        runs = tuple((replace(r, mirrors=left) if r is entry else r) for r in self.run_images
                     if r is not entry or left)
        return replace(self, run_images=runs)

    def with_registry_mirror(self, registry: str, mirror: str) -> PypackConfig:
        """Use ``mirror`` for ``registry`` (``*``: every registry)."""
        return replace(self, registry_mirrors={**self.registry_mirrors, registry: mirror})

    def without_registry_mirror(self, registry: str) -> PypackConfig:
        """Forget the mirror of ``registry``."""
        return replace(self, registry_mirrors={k: v for k, v in self.registry_mirrors.items()
                                               if k != registry})

    # --- TOML -----------------------------------------------------------------------------------
    def to_toml(self) -> dict[str, Any]:
        """The file's table (empty parts omitted), unknown keys after pypack's."""
        out: dict[str, Any] = {}
        if self.default_builder:
            out["default-builder-image"] = self.default_builder
        if self.trusted_builders:
            out["trusted-builders"] = [{"name": n} for n in self.trusted_builders]
        if self.run_images:
            out["run-images"] = [{"image": r.image, "mirrors": list(r.mirrors)}
                                 for r in self.run_images]
        if self.registry_mirrors:
            out["registry-mirrors"] = dict(sorted(self.registry_mirrors.items()))
        out.update({k: v for k, v in self.extra.items() if k not in _OURS})
        return out

    @classmethod
    def from_toml(cls, data: Mapping[str, Any], source: str = "config.toml") -> PypackConfig:
        """Validate and build; FileFormatError names ``source`` and the key."""
        schema.validate(data, "pypack-config", source)
        for key in data:
            if key not in _OURS and key not in _PACK_ONLY:
                log.warning("%s: unknown key %r (kept as is)", source, key)
        return cls(
            default_builder=data.get("default-builder-image") or None,
            trusted_builders=tuple(t["name"] for t in data.get("trusted-builders", ())),
            run_images=tuple(RunImageMirrors(r["image"], tuple(r.get("mirrors", ())))
                             for r in data.get("run-images", ())),
            registry_mirrors=dict(data.get("registry-mirrors", {})),
            extra={k: v for k, v in data.items() if k not in _OURS},
        )


def _identifier(ref: Reference) -> str:
    if ref.digest is not None:
        return f"@{ref.digest}"
    return f":{ref.tag or 'latest'}"


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> PypackConfig:
    """The configuration at ``path`` (default :func:`config_path`); empty if the file is missing;
    FileFormatError naming the file for invalid TOML or values."""
    p = Path(path) if path is not None else config_path(environ)
    if p.is_dir():
        raise FileFormatError(f"{p}: is a directory, not a config file")
    return PypackConfig.from_toml(tomlfile.load(p, missing_ok=True), str(p))


def save_config(cfg: PypackConfig, path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Path:
    """Write ``cfg`` atomically to ``path`` (default :func:`config_path`); returns the path."""
    p = Path(path) if path is not None else config_path(environ)
    data = cfg.to_toml()
    schema.validate(data, "pypack-config", str(p), error=UsageError)
    try:
        tomlfile.dump(p, data)
    except OSError as e:
        raise FileFormatError(f"{p}: cannot write: {e.strerror}") from e
    log.debug("wrote %s", p)
    return p
