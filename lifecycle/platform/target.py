"""Target data given to buildpacks as ``CNB_TARGET_*`` (Buildpack API >= 0.10; buildpack.md
"Provided by the Lifecycle / Targets"; platform.md "detector": run-image target from analyzed.toml).

``CNB_TARGET_OS`` and ``CNB_TARGET_ARCH`` are always set: from analyzed.toml's
``[run-image.target]``, else ``linux`` and the host architecture in GOARCH naming (as the Go
lifecycle, which runs in the build image); the variant and distro variables only when known.
The Go lifecycle also fills a missing distro from the build image's ``/etc/os-release``; here
that happens only when ``os_release`` names such a file (the lifecycle may run on the host).
"""

from __future__ import annotations

import os
import platform as _platform
from pathlib import Path

from lifecycle import api
from lifecycle.api import Version
from lifecycle.buildpack.targets import Distro
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files.analyzed import TargetMetadata

_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
           "i386": "386", "i686": "386", "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}


def host_arch() -> str:
    """The host CPU architecture in GOARCH/OCI naming (``amd64``, ``arm64``, ...)."""
    machine = _platform.machine().lower()
    return _GOARCH.get(machine, machine)


def read_os_release(path: str | os.PathLike[str]) -> Distro | None:
    """``ID`` and ``VERSION_ID`` of an os-release file, or None if absent/empty."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            values[key.strip()] = value.strip().strip('"').strip("'")
    name, version = values.get("ID", ""), values.get("VERSION_ID", "")
    return Distro(name, version) if name or version else None


def complete(target: TargetMetadata, os_release: str | None = None) -> TargetMetadata:
    """Fill in what is unknown: os ``linux``, the host arch, distro from ``os_release``."""
    distro = target.distro
    if distro is None and os_release is not None:
        distro = read_os_release(os_release)
    return TargetMetadata(os=target.os or "linux", arch=target.arch or host_arch(),
                          arch_variant=target.arch_variant, id=target.id, distro=distro)


def env_for(target: TargetMetadata) -> dict[str, str]:
    """The ``CNB_TARGET_*`` variables of a (completed) target."""
    out = {"CNB_TARGET_OS": target.os, "CNB_TARGET_ARCH": target.arch}
    optional = {"CNB_TARGET_ARCH_VARIANT": target.arch_variant,
                "CNB_TARGET_DISTRO_NAME": target.distro.name if target.distro else "",
                "CNB_TARGET_DISTRO_VERSION": target.distro.version if target.distro else ""}
    out.update({k: v for k, v in optional.items() if v})
    return out


def run_image_target(analyzed_path: str | None) -> TargetMetadata:
    """The run-image target recorded in ``analyzed_path`` (empty if no file or no target)."""
    if not analyzed_path:
        return TargetMetadata()
    return analyzed_file.load(analyzed_path, missing_ok=True).run_image_target


def target_env(analyzed_path: str | None, bp_api: Version, *,
               os_release: str | None = None) -> dict[str, str]:
    """``CNB_TARGET_*`` for a buildpack of API ``bp_api`` (empty dict before 0.10)."""
    if not api.targets_supported(bp_api):
        return {}
    return env_for(complete(run_image_target(analyzed_path), os_release))
