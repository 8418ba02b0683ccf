"""Entry points of a Python buildpack: ``detect(fn)`` for ``bin/detect``, ``build(fn)`` for
``bin/build`` (`buildpack.md` "Detection" and "Build": inputs, outputs, exit statuses).

``run_detect``/``run_build`` make the context from argv and the environment, call ``fn``,
write the outputs and return the exit status: detect 0 (pass), 100 (fail) or 1 (error);
build 0 or 1. Logging goes to stdout (info) and stderr (warnings and errors), as the spec's
"Standard output: logs (info)". ``BP_LOG_LEVEL=debug`` shows the SDK's debug lines.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

from lifecycle.sdk.context import DetectContext
from lifecycle.sdk.errors import (
    BUILD_FAILURE,
    BUILD_SUCCESS,
    DETECT_ERROR,
    DETECT_PASS,
    DetectOutcome,
    SdkError,
)

DetectFn = Callable[[DetectContext], None]
if TYPE_CHECKING:  # imported when a build runs: bin/detect never needs it
    from lifecycle.sdk.build_context import BuildContext

BuildFn = Callable[["BuildContext"], None]


class _StdHandler(logging.Handler):
    """Info and debug lines to the current ``sys.stdout``, warnings and errors (with their
    level) to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.levelno >= logging.WARNING:
                sys.stdout.flush()
                sys.stderr.write(f"{record.levelname}: {text}\n")
                sys.stderr.flush()
            else:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
        except Exception:  # the logging module's contract: never raise from emit
            self.handleError(record)


def configure_logging(environ: Mapping[str, str]) -> None:
    """Send the ``buildpack`` loggers to stdout/stderr (once); ``BP_LOG_LEVEL=debug``."""
    root = logging.getLogger("buildpack")
    if not any(isinstance(h, _StdHandler) for h in root.handlers):
        root.addHandler(_StdHandler())
    debug = environ.get("BP_LOG_LEVEL", "").lower() == "debug"
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


def _report(exc: BaseException, environ: Mapping[str, str]) -> None:
    sys.stdout.flush()
    if isinstance(exc, SdkError) and environ.get("BP_LOG_LEVEL", "").lower() != "debug":
        sys.stderr.write(f"ERROR: {exc}\n")
    else:
        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.flush()


def run_detect(fn: DetectFn, argv: Sequence[str] | None = None,
               environ: Mapping[str, str] | None = None) -> int:
    """Run a detect function; return 0 (pass, plan written), 100 (fail) or an error status."""
    args = list(sys.argv if argv is None else argv)
    env = os.environ if environ is None else environ
    configure_logging(env)
    try:
        ctx = DetectContext(args, env)
        try:
            fn(ctx)
        except DetectOutcome as outcome:
            if outcome.args and outcome.args[0]:
                ctx.log.info("%s", outcome.args[0])
            if not outcome.passed:
                return outcome.exit_code
        ctx.write_plan()
        return DETECT_PASS
    except SdkError as e:
        _report(e, env)
        return e.exit_code
    except Exception as e:  # any failure of the buildpack: a detect error
        _report(e, env)
        return DETECT_ERROR
    finally:
        sys.stdout.flush()


def run_build(fn: BuildFn, argv: Sequence[str] | None = None,
              environ: Mapping[str, str] | None = None) -> int:
    """Run a build function; write the layer and launch files; return 0 or an error status."""
    args = list(sys.argv if argv is None else argv)
    env = os.environ if environ is None else environ
    configure_logging(env)
    try:
        from lifecycle.sdk.build_context import BuildContext

        ctx = BuildContext(args, env)
        fn(ctx)
        ctx.finish()
        return BUILD_SUCCESS
    except SdkError as e:
        _report(e, env)
        return e.exit_code if e.exit_code != DETECT_ERROR else BUILD_FAILURE
    except Exception as e:  # any failure of the buildpack fails the build
        _report(e, env)
        return BUILD_FAILURE
    finally:
        sys.stdout.flush()


def detect(fn: DetectFn) -> NoReturn:
    """``bin/detect``'s main: ``if __name__ == "__main__": detect(main)``."""
    sys.exit(run_detect(fn))


def build(fn: BuildFn) -> NoReturn:
    """``bin/build``'s main: ``if __name__ == "__main__": build(main)``."""
    sys.exit(run_build(fn))
