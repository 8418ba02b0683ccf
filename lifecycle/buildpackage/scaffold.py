"""``pypack buildpack new``: write a new, working buildpack (pack ``buildpack new``; buildpack.md).

``render`` decides the files (pure: path -> content and mode) from :class:`NewOptions`;
``create`` writes them into a directory that must not exist yet and, for ``--lang python``,
vendors a copy of ``lifecycle.sdk`` into ``lib/lifecycle/sdk`` (plus an empty
``lib/lifecycle/__init__.py``), since the new buildpack lives outside pypack. Targets use pack's
form ``os[/arch[/variant]][:name@version[@version...][;name@version...]]``; the default is the
host's ``os/arch``. Buildpack API < 0.10 gets ``[[stacks]] id = "*"`` instead of targets.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle import api
from lifecycle.buildpack.descriptor import escape_id
from lifecycle.buildpack.targets import Distro, Target
from lifecycle.buildpackage import templates as t
from lifecycle.errors import UsageError
from lifecycle.fsutil import atomic_write
from lifecycle.oci.platform import Platform

log = logging.getLogger(__name__)

LANGS = ("bash", "python")
DEFAULT_API = "0.12"
DEFAULT_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class NewOptions:
    """What to scaffold: ``path`` defaults to ``./<last part of the id>``."""

    id: str
    path: str | None = None
    lang: str = "bash"
    api: str = DEFAULT_API
    version: str = DEFAULT_VERSION
    targets: tuple[str, ...] = ()

    def directory(self) -> Path:
        """Where the buildpack goes."""
        return Path(self.path) if self.path else Path.cwd() / self.id.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class File:
    """One file to write: content and mode."""

    content: bytes
    mode: int = 0o644


def parse_target(text: str) -> Target:
    """``os[/arch[/variant]][:name@v1[@v2][;name2@v]]`` as a Target; UsageError if malformed."""
    plat, _, dists = text.partition(":")
    parts = plat.split("/") if plat else []
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise UsageError(f"target {text!r}: want os[/arch[/variant]][:distro@version]")
    distros: list[Distro] = []
    for item in filter(None, dists.split(";")):
        name, *versions = item.split("@")
        if not name:
            raise UsageError(f"target {text!r}: distribution {item!r} has no name")
        distros += [Distro(name, v) for v in versions] or [Distro(name)]
    parts += [""] * (3 - len(parts))
    return Target(parts[0], parts[1], parts[2], tuple(distros))


def _q(value: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _target_toml(tgt: Target) -> str:
    lines = ["[[targets]]", f"os = {_q(tgt.os)}"]
    if tgt.arch:
        lines.append(f"arch = {_q(tgt.arch)}")
    if tgt.arch_variant:
        lines.append(f"variant = {_q(tgt.arch_variant)}")
    for d in tgt.distros:
        lines += ["", "[[targets.distros]]", f"name = {_q(d.name)}"]
        if d.version:
            lines.append(f"version = {_q(d.version)}")
    return "\n".join(lines) + "\n"


def display_name(bp_id: str) -> str:
    """A human name from the id: ``example/hello-world`` -> ``Hello World``."""
    last = bp_id.rsplit("/", 1)[-1]
    return " ".join(w.capitalize() for w in last.replace("_", "-").split("-") if w) or bp_id


def _check(opts: NewOptions) -> api.Version:
    if opts.lang not in LANGS:
        raise UsageError(f"--lang {opts.lang!r}: want one of {', '.join(LANGS)}")
    if not opts.id or opts.id.strip() != opts.id or " " in opts.id or opts.id in (
            "app", "config", "sbom"):
        raise UsageError(f"buildpack id {opts.id!r}: want a non-empty id without spaces, "
                         "such as example/hello (not 'app', 'config' or 'sbom')")
    version = api.check_buildpack_api(opts.api, opts.id)
    if opts.lang == "python" and version < api.Version(0, 9):
        raise UsageError(f"--api {opts.api}: the Python SDK writes Buildpack API 0.9+ "
                         "launch.toml; use --api 0.9 or later, or --lang bash")
    return version


def buildpack_toml(opts: NewOptions, version: api.Version,
                   targets: Sequence[Target]) -> bytes:
    """The ``buildpack.toml`` text."""
    parts = [f"# {opts.id}: made by `pypack buildpack new`. See README.md.\n"
             f"api = {_q(str(version))}\n",
             "[buildpack]\n"
             f"id = {_q(opts.id)}\n"
             f"version = {_q(opts.version)}\n"
             f"name = {_q(display_name(opts.id))}\n"
             'description = "Greets from a cached launch layer; runs run.sh"\n']
    if api.targets_supported(version):
        parts += [_target_toml(x) for x in targets]
    else:
        parts.append('[[stacks]]\nid = "*"\n')
    return "\n".join(parts).encode()


def render(opts: NewOptions, host: Platform | None = None) -> dict[str, File]:
    """Every file of the new buildpack (relative path -> File), without the vendored SDK."""
    version = _check(opts)
    host = host or Platform.host()
    targets = [parse_target(x) for x in opts.targets] or [Target(host.os, host.architecture)]
    directory = opts.directory()
    tokens = {"__ID__": opts.id, "__NAME__": display_name(opts.id), "__API__": str(version),
              "__LANG__": opts.lang, "__ESCAPED_ID__": escape_id(opts.id),
              "__DIRNAME__": directory.name,
              "__SDK__": t.README_SDK if opts.lang == "python" else "",
              "__PROCESS__": t.PROCESS_ARRAY if api.command_is_array(version)
              else t.PROCESS_LEGACY}

    def fill(text: str) -> bytes:
        for key, value in tokens.items():
            text = text.replace(key, value)
        return text.encode()

    detect, build = (t.PY_DETECT, t.PY_BUILD) if opts.lang == "python" else \
        (t.BASH_DETECT, t.BASH_BUILD)
    files = {
        "buildpack.toml": File(buildpack_toml(opts, version, targets)),
        "bin/detect": File(fill(detect), 0o755),
        "bin/build": File(fill(build), 0o755),
        "package.toml": File(fill(t.PACKAGE_TOML)),
        "README.md": File(fill(t.README)),
        "test.sh": File(fill(t.TEST_SH), 0o755),
        "sample-app/run.sh": File(fill(t.SAMPLE_RUN), 0o755),
    }
    if opts.lang == "python":
        files["lib/lifecycle/__init__.py"] = File(b"")
    return files


def sdk_dir() -> Path:
    """pypack's ``lifecycle/sdk`` package directory."""
    import lifecycle.sdk

    return Path(lifecycle.sdk.__file__).resolve().parent


def create(opts: NewOptions) -> list[Path]:
    """Write the buildpack; returns the files written (relative paths). UsageError if the
    directory exists."""
    files = render(opts)
    root = opts.directory()
    if root.exists() or root.is_symlink():
        raise UsageError(f"directory {root} exists; choose another --path")
    for rel, f in sorted(files.items()):
        atomic_write(root / rel, f.content, f.mode)
    os.chmod(root, 0o755)
    written = [Path(rel) for rel in sorted(files)]
    if opts.lang == "python":
        dest = root / "lib" / "lifecycle" / "sdk"
        shutil.copytree(sdk_dir(), dest, symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        written.append(dest.relative_to(root))
    log.debug("created buildpack %s in %s", opts.id, root)
    return written
