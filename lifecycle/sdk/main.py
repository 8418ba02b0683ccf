"""Entry points of a Python buildpack: ``detect(fn)`` for ``bin/detect``, ``build(fn)`` for
``bin/build`` (`buildpack.md` "Detection" and "Build": inputs, outputs, exit statuses).

``run_detect``/``run_build`` make the context from argv and the environment, call ``fn``,
write the outputs and return the exit status: detect 0 (pass), 100 (fail) or 1 (error);
build 0 or 1. Logging goes to stdout (info) and stderr (warnings and errors), as the spec's
"Standard output: logs (info)". ``BP_LOG_LEVEL=debug`` shows the SDK's debug lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

from lifecycle.sdk import log
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


def configure_logging(environ: Mapping[str, str]) -> None:
    """``BP_LOG_LEVEL=debug`` shows the SDK's debug lines (``lifecycle.sdk.log``)."""
    log.configure(environ)


def _report(exc: BaseException, environ: Mapping[str, str]) -> None:
    sys.stdout.flush()
    if isinstance(exc, SdkError) and environ.get("BP_LOG_LEVEL", "").lower() != "debug":
        sys.stderr.write(f"ERROR: {exc}\n")
    else:
        import traceback

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
