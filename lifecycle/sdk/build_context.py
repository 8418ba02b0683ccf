"""``BuildContext``: what ``bin/build`` reads and contributes (`buildpack.md` "Build",
"Phase #5: Build", "Unmet Buildpack Plan Entries", "store.toml").

It reads the Buildpack Plan (``CNB_BP_PLAN_PATH``) and ``store.toml``, hands out ``Layer``
objects, collects processes, labels, slices and unmet entries, and at the end (``finish``)
writes every ``<layer>.toml``, ``launch.toml``, ``build.toml`` and ``store.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecycle.sdk import sbom, toml
from lifecycle.sdk.context import Context, input_path, log
from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.launch import Launch, Process
from lifecycle.sdk.layer import Layer
from lifecycle.sdk.plan import PlanEntry, parse_entries


class BuildContext(Context):
    """``bin/build``: contribute layers and launch metadata. Returning normally succeeds."""

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str],
                 app_dir: Path | None = None) -> None:
        super().__init__(argv, environ, input_path(environ, "CNB_PLATFORM_DIR", argv, 2),
                         app_dir)
        self.layers_dir = input_path(environ, "CNB_LAYERS_DIR", argv, 1).absolute()
        plan_path = input_path(environ, "CNB_BP_PLAN_PATH", argv, 3)
        self.plan: tuple[PlanEntry, ...] = parse_entries(toml.read(plan_path), str(plan_path))
        """The Buildpack Plan entries given to this buildpack."""
        stored = toml.read(self.layers_dir / "store.toml").get("metadata", {})
        self._had_store = (self.layers_dir / "store.toml").is_file()
        self.store: dict[str, Any] = dict(stored) if isinstance(stored, Mapping) else {}
        """``store.toml`` ``[metadata]``: kept across builds through the app image."""
        self.launch = Launch()
        self.layers: dict[str, Layer] = {}

    def entries(self, name: str) -> tuple[PlanEntry, ...]:
        """The plan entries named ``name``."""
        return tuple(e for e in self.plan if e.name == name)

    def layer(self, name: str, *, launch: bool = False, build: bool = False,
              cache: bool = False) -> Layer:
        """The layer ``<layers>/<name>/`` with these types (all false: a temporary layer).

        Its ``metadata`` is what was restored; call ``reuse_if(metadata)`` or ``reset()``
        before writing to it. Asking twice for one name gives the same layer (same types).
        """
        existing = self.layers.get(name)
        if existing is not None:
            if (existing.launch, existing.build, existing.cache) != (launch, build, cache):
                raise SdkError(f"layer {name!r} was already requested with other types")
            return existing
        layer = Layer(self.layers_dir, name, launch=launch, build=build, cache=cache)
        self.layers[name] = layer
        return layer

    def restored_layers(self) -> tuple[str, ...]:
        """Names of the layers whose ``<layer>.toml`` the platform restored."""
        return tuple(sorted(p.name[:-5] for p in self.layers_dir.glob("*.toml")
                            if p.name not in ("launch.toml", "build.toml", "store.toml")))

    def process(self, ptype: str, command: Sequence[str], args: Sequence[str] = (), *,
                default: bool = False, working_dir: str | None = None,
                exec_env: Sequence[str] = ()) -> Process:
        """Declare a process type for ``launch.toml`` (see ``Launch.process``)."""
        return self.launch.process(ptype, command, args, default=default,
                                   working_dir=working_dir, exec_env=exec_env)

    def label(self, key: str, value: str) -> None:
        """Set an image label."""
        self.launch.label(key, value)

    def slice(self, *paths: str) -> None:
        """Export these app globs as their own layer."""
        self.launch.slice(*paths)

    def unmet(self, name: str) -> None:
        """Leave plan entry ``name`` to the next buildpack that provides it."""
        if not self.entries(name):
            raise SdkError(f"unmet entry {name!r} is not in this buildpack's plan")
        if name not in self.launch.unmet:
            self.launch.unmet.append(name)

    def sbom(self, kind: str, fmt: str, data: str | bytes | Mapping[str, Any]) -> Path:
        """Write ``launch.sbom.<ext>`` (``kind="launch"``) or ``build.sbom.<ext>``."""
        if kind not in ("launch", "build"):
            raise SdkError(f"SBOM kind must be 'launch' or 'build', not {kind!r}")
        return sbom.write(self.layers_dir, kind, fmt, data)

    def finish(self) -> None:
        """Write every ``<layer>.toml``, ``launch.toml``, ``build.toml`` and ``store.toml``."""
        for layer in self.layers.values():
            layer.write_toml()
            log.debug("layer %s: %s", layer.name, layer.to_toml())
        launch, build = self.launch.documents()
        for name, doc in (("launch.toml", launch), ("build.toml", build)):
            if doc:
                toml.write(self.layers_dir / name, doc)
        if self.store or self._had_store:
            toml.write(self.layers_dir / "store.toml", {"metadata": self.store})
