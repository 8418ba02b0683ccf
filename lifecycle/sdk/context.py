"""What ``bin/detect`` and ``bin/build`` receive (`buildpack.md` "Detection", "Build",
"Environment"), as ``DetectContext`` and ``BuildContext``.

Inputs come from the ``CNB_*`` variables of Buildpack API 0.8+ (``CNB_PLATFORM_DIR``,
``CNB_BUILD_PLAN_PATH``, ``CNB_LAYERS_DIR``, ``CNB_BP_PLAN_PATH``, ``CNB_BUILDPACK_DIR``,
``CNB_EXEC_ENV``, ``CNB_TARGET_*``), else from the deprecated positional arguments
(``bin/detect <platform> <plan>``, ``bin/build <layers> <platform> <plan>``). The working
directory is the app. The build side lives in ``lifecycle.sdk.build_context``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn

from lifecycle.sdk import toml
from lifecycle.sdk.errors import BuildpackError, DetectOutcome, SdkError
from lifecycle.sdk.log import Log
from lifecycle.sdk.plan import Alternative, BuildPlan

log = Log("buildpack.sdk")


class Target(NamedTuple):
    """The run image target (``CNB_TARGET_*``, Buildpack API 0.10+); empty when unknown."""

    os: str = ""
    arch: str = ""
    arch_variant: str = ""
    distro_name: str = ""
    distro_version: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Target:
        """Read ``CNB_TARGET_OS``, ``_ARCH``, ``_ARCH_VARIANT``, ``_DISTRO_NAME``, ``_VERSION``."""
        def get(name: str) -> str:
            return environ.get(f"CNB_TARGET_{name}", "")
        return cls(get("OS"), get("ARCH"), get("ARCH_VARIANT"), get("DISTRO_NAME"),
                   get("DISTRO_VERSION"))


class BuildpackInfo(NamedTuple):
    """The running buildpack's ``buildpack.toml``: id, version, api, name and ``[metadata]``."""

    id: str
    version: str
    api: str = ""
    name: str = ""
    metadata: Mapping[str, Any] = MappingProxyType({})

    @classmethod
    def load(cls, buildpack_dir: Path) -> BuildpackInfo:
        """Read ``<buildpack>/buildpack.toml``."""
        doc = toml.read(buildpack_dir / "buildpack.toml", missing_ok=False)
        bp = doc.get("buildpack", {})
        if not isinstance(bp, Mapping) or not bp.get("id"):
            raise SdkError(f"{buildpack_dir}/buildpack.toml: no [buildpack] id")
        md = doc.get("metadata", {})
        return cls(str(bp["id"]), str(bp.get("version", "")), str(doc.get("api", "")),
                   str(bp.get("name", "")), dict(md) if isinstance(md, Mapping) else {})


def read_env_dir(directory: Path) -> dict[str, str]:
    """``<platform>/env/``: file name -> contents (verbatim) for every regular file."""
    if not directory.is_dir():
        return {}
    return {p.name: p.read_text("utf-8") for p in sorted(directory.iterdir()) if p.is_file()}


def input_path(environ: Mapping[str, str], name: str, argv: Sequence[str], index: int) -> Path:
    """``$name``, else the deprecated positional argument ``argv[index]``; SdkError if neither."""
    value = environ.get(name) or (argv[index] if len(argv) > index else "")
    if not value:
        raise SdkError(f"{name} is not set (is this program run by a CNB lifecycle?)")
    return Path(value)


class Context:
    """What detect and build share: directories, buildpack, target, environment, helpers."""

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str], platform_dir: Path,
                 app_dir: Path | None = None) -> None:
        self.environ: Mapping[str, str] = dict(environ)
        """The environment the lifecycle gave this program (platform env already applied)."""
        self.app_dir = (app_dir or Path.cwd()).absolute()
        self.platform_dir = platform_dir.absolute()
        bp_dir = environ.get("CNB_BUILDPACK_DIR") or \
            (os.path.dirname(os.path.dirname(os.path.abspath(argv[0]))) if argv else "")
        if not bp_dir:
            raise SdkError("CNB_BUILDPACK_DIR is not set")
        self.buildpack_dir = Path(bp_dir)
        self.buildpack = BuildpackInfo.load(self.buildpack_dir)
        self.target = Target.from_environ(environ)
        self.exec_env = environ.get("CNB_EXEC_ENV", "") or "production"
        self.platform_env = read_env_dir(self.platform_dir / "env")
        """User-provided ``<platform>/env/`` values (readable even with ``clear-env``)."""
        self.log = Log(f"buildpack.{self.buildpack.id}")

    def app_file(self, *parts: str) -> Path:
        """A path inside the app directory."""
        return self.app_dir.joinpath(*parts)

    def getenv(self, name: str, default: str | None = None) -> str | None:
        """A variable of the buildpack's environment."""
        return self.environ.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean setting such as ``BP_FOO=true`` (true/1/yes/on, false/0/no/off)."""
        value = (self.environ.get(name) or "").strip().lower()
        if not value:
            return default
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise BuildpackError(f"{name}={value!r}: expected true or false")

    def error(self, message: str) -> NoReturn:
        """Stop with ``message`` on stderr and an error exit status."""
        raise BuildpackError(message)

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            cwd: str | os.PathLike[str] | None = None) -> None:
        """Run a program with its output passed through; BuildpackError if it fails.

        ``env`` entries are added to this program's environment.
        """
        import shlex
        import subprocess

        full = dict(self.environ)
        full.update(env or {})
        self.log.info("$ %s", " ".join(shlex.quote(a) for a in argv))
        try:
            rc = subprocess.run(list(argv), cwd=cwd or self.app_dir, env=full,
                                stdin=subprocess.DEVNULL, check=False).returncode
        except OSError as e:
            raise BuildpackError(f"cannot run {argv[0]}: {e.strerror or e}") from e
        if rc != 0:
            raise BuildpackError(f"{argv[0]} exited with status {rc}")

    def capture(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> str:
        """Run a program and return its stdout (stripped); BuildpackError with its stderr if
        it fails."""
        import subprocess

        full = dict(self.environ)
        full.update(env or {})
        try:
            proc = subprocess.run(list(argv), cwd=self.app_dir, env=full, text=True,
                                  stdin=subprocess.DEVNULL, capture_output=True, check=False)
        except OSError as e:
            raise BuildpackError(f"cannot run {argv[0]}: {e.strerror or e}") from e
        if proc.returncode != 0:
            raise BuildpackError(f"{' '.join(argv)} exited with status {proc.returncode}: "
                                 f"{proc.stderr.strip()}")
        return proc.stdout.strip()

    def which(self, program: str) -> str | None:
        """``program`` looked up on this environment's ``PATH``."""
        import shutil

        return shutil.which(program, path=self.environ.get("PATH", os.defpath))


class DetectContext(Context):
    """``bin/detect``: decide whether the buildpack applies and contribute to the Build Plan.

    Returning normally passes (exit 0); ``fail()`` exits 100; ``error()`` exits 1.
    """

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str],
                 app_dir: Path | None = None) -> None:
        super().__init__(argv, environ, input_path(environ, "CNB_PLATFORM_DIR", argv, 1),
                         app_dir)
        self.plan_path = input_path(environ, "CNB_BUILD_PLAN_PATH", argv, 2)
        self.plan = BuildPlan()
        """The Build Plan written to ``CNB_BUILD_PLAN_PATH`` when detection passes."""

    def provide(self, name: str) -> Alternative:
        """Top-level ``[[provides]]``."""
        return self.plan.provide(name)

    def require(self, name: str, metadata: Mapping[str, Any] | None = None) -> Alternative:
        """Top-level ``[[requires]]`` with optional metadata."""
        return self.plan.require(name, metadata)

    def or_(self) -> Alternative:
        """A new ``[[or]]`` alternative."""
        return self.plan.or_()

    def pass_(self, message: str = "") -> NoReturn:
        """Pass now (exit 0), writing the plan built so far."""
        raise DetectOutcome(True, message)

    def fail(self, message: str = "") -> NoReturn:
        """Fail now (exit 100): this buildpack does not apply. Not an error."""
        raise DetectOutcome(False, message)

    def write_plan(self) -> None:
        """Write the Build Plan (nothing when it is empty)."""
        doc = self.plan.to_toml()
        if doc:
            toml.write(self.plan_path, doc)
