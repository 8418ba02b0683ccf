"""The SDK's exceptions and the exit codes of `buildpack.md` "Detection" and "Build".

``bin/detect`` exits 0 to pass, 100 to fail and anything else for an error; ``bin/build`` exits
0 on success and non-zero on failure. The SDK is standard library only and runs inside build
images, so it keeps its own small tree instead of ``lifecycle.errors``.
"""

from __future__ import annotations

DETECT_PASS = 0
"""``bin/detect``: this buildpack applies."""
DETECT_FAIL = 100
"""``bin/detect``: this buildpack does not apply (not an error)."""
DETECT_ERROR = 1
"""``bin/detect``: something went wrong (any status other than 0 and 100)."""
BUILD_SUCCESS = 0
"""``bin/build``: success."""
BUILD_FAILURE = 1
"""``bin/build``: failure (the lifecycle's builder then exits 51)."""


class SdkError(Exception):
    """An error in a buildpack or in how it uses the SDK; the program exits with ``exit_code``."""

    exit_code = DETECT_ERROR

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            if exit_code in (0, DETECT_FAIL):
                raise ValueError(f"exit code {exit_code} is not an error status")
            self.exit_code = exit_code


class BuildpackError(SdkError):
    """Raised by a buildpack (``ctx.error(...)``) to stop with a message and an error status."""


class DetectOutcome(Exception):  # a control-flow signal, not an error
    """Raised by ``DetectContext.pass_()``/``fail()`` to end detection early."""

    def __init__(self, passed: bool, message: str = "") -> None:
        super().__init__(message)
        self.passed = passed

    @property
    def exit_code(self) -> int:
        """0 when passed, 100 when failed."""
        return DETECT_PASS if self.passed else DETECT_FAIL
