"""One exception tree for pypack and the lifecycle; each class carries the CNB spec exit code.

Exit codes follow Platform API 0.15 (`platform.md`, "Exit codes") and the Go lifecycle's
``platform/exit.go``. Only the CLI turns these into ``sys.exit``; the library raises.
This module uses the standard library only: the launcher imports it inside run images.
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of every error pypack raises on purpose. ``str(err)`` is the one-line message."""

    exit_code: int = 1


# --- generic -----------------------------------------------------------------------------------
class UsageError(LifecycleError):
    """Invalid arguments, flags or environment (spec: 3)."""

    exit_code = 3


class FileFormatError(LifecycleError):
    """A TOML/JSON file is unreadable or fails its schema; the message names file and key."""


class PlatformAPIError(LifecycleError):
    """CNB_PLATFORM_API is unset or unsupported (spec: 11)."""

    exit_code = 11


class BuildpackAPIError(LifecycleError):
    """A buildpack declares an unsupported Buildpack API (spec: 12)."""

    exit_code = 12


# --- OCI / images / registries ------------------------------------------------------------------
class ImageError(LifecycleError):
    """An image, layout, archive or blob is missing, malformed or fails digest verification."""


class ImageNotFoundError(ImageError):
    """The local store (or a layout) has no image of that name."""


class DigestMismatchError(ImageError):
    """Bytes read do not hash to the digest they were addressed by."""


class InvalidReferenceError(UsageError):
    """An image reference cannot be parsed (exit 3: it is an invalid argument)."""


class UnsafeTarEntryError(ImageError):
    """A tar entry would escape the extraction root or is of a refused kind."""


class RegistryError(ImageError):
    """A registry answered with an error. ``codes`` holds the distribution error codes."""

    def __init__(self, message: str, *, status: int | None = None,
                 codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class AuthError(RegistryError):
    """Authentication or authorization with a registry failed."""


class RegistryNotFoundError(RegistryError):
    """The registry has no such repository, manifest, blob or upload (HTTP 404)."""


# --- phases -------------------------------------------------------------------------------------
class DetectFailed(LifecycleError):
    """No group passed detection and no buildpack errored (spec: 20)."""

    exit_code = 20


class DetectFailedWithErrors(LifecycleError):
    """No group passed and at least one buildpack errored (spec: 21)."""

    exit_code = 21


class DetectError(LifecycleError):
    """Any other detect-phase error (Go lifecycle: 22)."""

    exit_code = 22


class AnalyzeError(LifecycleError):
    """Analyzer failure (spec: 30-39)."""

    exit_code = 30


class RestoreError(LifecycleError):
    """Restorer failure (spec: 40-49)."""

    exit_code = 40


class BuildpackBuildFailed(LifecycleError):
    """A buildpack's bin/build exited non-zero (spec: 51)."""

    exit_code = 51


class BuildError(LifecycleError):
    """A lifecycle error during the build phase (spec: 52)."""

    exit_code = 52


class ExportError(LifecycleError):
    """Exporter failure (spec: 60-69)."""

    exit_code = 62


class RebaseError(LifecycleError):
    """Rebaser failure (spec: 70-79)."""

    exit_code = 72


class LaunchError(LifecycleError):
    """Launcher failure (spec: 80-89)."""

    exit_code = 82


PHASE_ERRORS: dict[str, type[LifecycleError]] = {
    "detector": DetectError,
    "analyzer": AnalyzeError,
    "restorer": RestoreError,
    "builder": BuildError,
    "exporter": ExportError,
    "rebaser": RebaseError,
    "launcher": LaunchError,
}
"""The error class whose exit code a phase uses for failures that carry no more specific code."""


class SandboxError(LifecycleError):
    """Buildpack programs or an app cannot run in a sandbox (no bubblewrap, user namespaces
    disabled, a mount point that cannot be made); the message says why and what to do."""


class StackBuildError(LifecycleError):
    """``pypack stack build`` failed: mmdebstrap missing or failing, or the built tree does not
    match the definition."""
