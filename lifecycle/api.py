"""API versions (spec README, `platform.md` / `buildpack.md` "API compatibility") and named gates.

Every behaviour that depends on a Platform or Buildpack API version is one named function here,
so the rest of the code never compares version literals. Standard library only (used by the
launcher inside run images).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lifecycle.errors import BuildpackAPIError, PlatformAPIError

_VERSION_RE = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A CNB API version ``<major>.<minor>``; ``<major>`` alone means ``<major>.0``."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _VERSION_RE.match(text.strip())
        if not m:
            raise ValueError(f"invalid API version {text!r} (want <major>.<minor>)")
        return cls(int(m.group(1)), int(m.group(2) or 0))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def compatible(self, other: Version) -> bool:
        """Spec rule: 0.x versions match exactly; from 1.0 on, same major and minor >= other."""
        if self.major == 0 or other.major == 0:
            return self == other
        return self.major == other.major and self.minor >= other.minor

    def at_least(self, text: str) -> bool:
        return self >= Version.parse(text)


PLATFORM_APIS: tuple[Version, ...] = (Version(0, 15),)
"""Platform APIs the lifecycle implements (the spec's newest; see cnb-digest §1)."""

BUILDPACK_APIS: tuple[Version, ...] = tuple(Version(0, m) for m in range(7, 13))
"""Buildpack APIs the lifecycle implements: 0.7 through 0.12, as the Go lifecycle."""

DEPRECATED_PLATFORM_APIS: tuple[Version, ...] = ()
DEPRECATED_BUILDPACK_APIS: tuple[Version, ...] = ()


def _supported(v: Version, table: tuple[Version, ...]) -> bool:
    return any(s.compatible(v) for s in table)


def check_platform_api(value: str | None) -> Version:
    """Return the platform API from ``CNB_PLATFORM_API`` or raise PlatformAPIError (exit 11)."""
    if not value:
        raise PlatformAPIError(
            "CNB_PLATFORM_API is not set; set it to one of: "
            + ", ".join(str(v) for v in PLATFORM_APIS))
    try:
        v = Version.parse(value)
    except ValueError:
        raise PlatformAPIError(f"CNB_PLATFORM_API={value!r} is not a valid API version") from None
    if not _supported(v, PLATFORM_APIS):
        raise PlatformAPIError(
            f"platform API {v} is not supported by this lifecycle (supported: "
            + ", ".join(str(s) for s in PLATFORM_APIS) + ")")
    return v


def check_buildpack_api(value: str | None, who: str) -> Version:
    """Return the buildpack API a descriptor declares or raise BuildpackAPIError (exit 12)."""
    try:
        v = Version.parse(value or "")
    except ValueError:
        raise BuildpackAPIError(f"buildpack {who}: invalid api {value!r}") from None
    if not _supported(v, BUILDPACK_APIS):
        raise BuildpackAPIError(
            f"buildpack {who} declares buildpack API {v}, which this lifecycle does not support "
            f"(supported: {BUILDPACK_APIS[0]}-{BUILDPACK_APIS[-1]})")
    return v


# --- named gates: Buildpack API ----------------------------------------------------------------
def command_is_array(bp_api: Version) -> bool:
    """B0.9: launch.toml ``command`` is an array; ``direct`` is gone (always direct)."""
    return bp_api.at_least("0.9")


def cnb_dir_env_vars(bp_api: Version) -> bool:
    """B0.8: CNB_LAYERS_DIR, CNB_PLATFORM_DIR, CNB_BP_PLAN_PATH, CNB_BUILD_PLAN_PATH are set."""
    return bp_api.at_least("0.8")


def process_working_dir(bp_api: Version) -> bool:
    """B0.8: processes may set ``working-dir``."""
    return bp_api.at_least("0.8")


def targets_supported(bp_api: Version) -> bool:
    """B0.10: ``[[targets]]`` replace ``[[stacks]]``; CNB_TARGET_* are given to buildpacks."""
    return bp_api.at_least("0.10")


def exec_env_supported(bp_api: Version) -> bool:
    """B0.12: CNB_EXEC_ENV is given to detect/build; ``exec-env`` on processes and layers."""
    return bp_api.at_least("0.12")


def stacks_deprecated(bp_api: Version) -> bool:
    """B0.10: ``[[stacks]]`` are deprecated; a bionic stack implies its target even among others."""
    return bp_api.at_least("0.10")


# --- named gates: Platform API -----------------------------------------------------------------
def detect_checks_targets(platform_api: Version) -> bool:
    """P0.12: the detector fails a non-optional buildpack whose targets miss the run image."""
    return platform_api.at_least("0.12")


def detect_skips_by_exec_env(platform_api: Version) -> bool:
    """P0.15: the detector skips buildpacks whose exec-env list excludes CNB_EXEC_ENV."""
    return platform_api.at_least("0.15")
