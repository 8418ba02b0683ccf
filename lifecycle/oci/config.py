"""The image configuration (architecture, os, rootfs diff IDs, history, run config).

OCI image-spec "config.md"; Docker image spec v1.2 uses the same JSON. Unknown fields, both at
the top level and inside ``config``, are kept in ``extra`` so a read-modify-write loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lifecycle.errors import ImageError
from lifecycle.oci.descriptor import canonical_json, load_json_object, str_map
from lifecycle.oci.digest import Digest
from lifecycle.oci.platform import Platform

_RUN_KEYS = {"User": "user", "Env": "env", "Entrypoint": "entrypoint", "Cmd": "cmd",
             "WorkingDir": "working_dir", "Labels": "labels", "StopSignal": "stop_signal",
             "ExposedPorts": "exposed_ports", "Volumes": "volumes"}
_TOP_KEYS = ("architecture", "os", "variant", "os.version", "created", "author",
             "config", "rootfs", "history")


def _opt_list(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageError(f"{what}: field {key!r} is not a list of strings")
    return tuple(value)


def _opt_set(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ImageError(f"{what}: field {key!r} is not an object")
    return tuple(sorted(value))


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The ``config`` object: how a container of the image runs. ``None`` means unset."""

    user: str | None = None
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str | None = None
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; unset fields are omitted, unknown fields come back from ``extra``."""
        out: dict[str, Any] = dict(self.extra)
        scalars = {"User": self.user, "WorkingDir": self.working_dir,
                   "StopSignal": self.stop_signal}
        out.update({k: v for k, v in scalars.items() if v})
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.exposed_ports:
            out["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.volumes:
            out["Volumes"] = {v: {} for v in self.volumes}
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], what: str) -> RunConfig:
        """Parse the ``config`` object of an image configuration."""
        if not isinstance(obj, Mapping):
            raise ImageError(f"{what}: 'config' is not an object")
        return cls(
            user=obj.get("User") or None, env=_opt_list(obj, "Env", what) or (),
            entrypoint=_opt_list(obj, "Entrypoint", what), cmd=_opt_list(obj, "Cmd", what),
            working_dir=obj.get("WorkingDir") or None, labels=str_map(obj, "Labels", what),
            stop_signal=obj.get("StopSignal") or None,
            exposed_ports=_opt_set(obj, "ExposedPorts", what),
            volumes=_opt_set(obj, "Volumes", what),
            extra={k: v for k, v in obj.items() if k not in _RUN_KEYS},
        )


@dataclass(frozen=True, slots=True)
class History:
    """One ``history`` entry; ``empty_layer`` entries have no layer."""

    created: str | None = None
    created_by: str | None = None
    comment: str | None = None
    author: str | None = None
    empty_layer: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, unset fields omitted."""
        out: dict[str, Any] = {k: v for k, v in (
            ("created", self.created), ("created_by", self.created_by),
            ("comment", self.comment), ("author", self.author)) if v}
        if self.empty_layer:
            out["empty_layer"] = True
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> History:
        """Parse one history entry (unknown keys are dropped)."""
        return cls(obj.get("created"), obj.get("created_by"), obj.get("comment"),
                   obj.get("author"), bool(obj.get("empty_layer", False)))


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """An image configuration value; ``to_json()`` bytes are what the config digest covers."""

    architecture: str
    os: str
    variant: str | None = None
    os_version: str | None = None
    created: str | None = None
    author: str | None = None
    config: RunConfig = field(default_factory=RunConfig)
    diff_ids: tuple[Digest, ...] = ()
    history: tuple[History, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> Platform:
        """The platform this configuration declares."""
        return Platform(self.os, self.architecture, self.variant, self.os_version)

    def with_platform(self, p: Platform) -> ConfigFile:
        """A copy declaring platform ``p``."""
        return replace(self, os=p.os, architecture=p.architecture, variant=p.variant,
                       os_version=p.os_version)

    def to_json(self) -> bytes:
        """Canonical JSON bytes of this configuration."""
        out: dict[str, Any] = dict(self.extra)
        out.update({"architecture": self.architecture, "os": self.os,
                    "config": self.config.to_dict(),
                    "rootfs": {"type": "layers", "diff_ids": [str(d) for d in self.diff_ids]}})
        optional = {"variant": self.variant, "os.version": self.os_version,
                    "created": self.created, "author": self.author}
        out.update({k: v for k, v in optional.items() if v})
        if self.history:
            out["history"] = [h.to_dict() for h in self.history]
        return canonical_json(out)

    @classmethod
    def from_json(cls, data: bytes, what: str = "config") -> ConfigFile:
        """Parse configuration bytes; ImageError naming ``what`` when malformed."""
        obj = load_json_object(data, what)
        rootfs = obj.get("rootfs") or {}
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        if not isinstance(diff_ids, list | None):
            raise ImageError(f"{what}: rootfs.diff_ids is not a list")
        hist = obj.get("history") or []
        if not isinstance(hist, list) or not all(isinstance(h, dict) for h in hist):
            raise ImageError(f"{what}: history is not a list of objects")
        return cls(
            architecture=str(obj.get("architecture") or ""), os=str(obj.get("os") or ""),
            variant=obj.get("variant") or None, os_version=obj.get("os.version") or None,
            created=obj.get("created") or None, author=obj.get("author") or None,
            config=RunConfig.from_dict(obj.get("config") or {}, what),
            diff_ids=tuple(Digest.parse(str(d)) for d in diff_ids or ()),
            history=tuple(History.from_dict(h) for h in hist),
            extra={k: v for k, v in obj.items() if k not in _TOP_KEYS},
        )
