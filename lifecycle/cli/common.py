"""What every phase program does around its body: API check, inputs, logging, exit codes.

Platform API 0.15 `platform.md`: each phase checks ``CNB_PLATFORM_API`` first (exit 11), turns
flags/env/defaults into inputs (exit 3 on bad ones), and exits with the spec's code for its
failures. Messages are one line on stderr; a traceback only at ``-log-level debug``.
Standard library only (the launcher shares it).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lifecycle.api import Version, check_platform_api
from lifecycle.errors import PHASE_ERRORS, FileFormatError, LifecycleError, UsageError
from lifecycle.platform import inputs

log = logging.getLogger("lifecycle")

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "error": logging.ERROR}

Body = Callable[[Mapping[str, Any], list[str], Version], int | None]


def setup_logging(level: str) -> None:
    """Log at ``level`` (debug|info|warn|error) as pack users see it: info and debug on stdout,
    warnings and errors on stderr."""
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(lambda r: r.levelno < logging.WARNING)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    for h in (out, err):
        h.setFormatter(_Formatter())
    root = logging.getLogger("lifecycle")
    root.handlers[:] = [out, err]
    root.setLevel(LEVELS.get(level, logging.INFO))
    root.propagate = False


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"ERROR: {msg}"
        if record.levelno >= logging.WARNING:
            return f"Warning: {msg}"
        return msg


def run_phase(phase: str, argv: Sequence[str], names: Sequence[str], body: Body,
              environ: Mapping[str, str] | None = None) -> int:
    """Run ``body(inputs, positionals, platform_api)`` as phase ``phase``; return the exit code.

    Errors without a more specific code exit with the phase's code (e.g. 62 for the exporter).
    """
    env = os.environ if environ is None else environ
    level = env.get("CNB_LOG_LEVEL", "info")
    setup_logging(level)
    try:
        api = check_platform_api(env.get("CNB_PLATFORM_API"))
        if "log-level" not in names:
            names = ["log-level", *names]
        values, positionals = inputs.parse(argv, names, env)
        level = values["log_level"]
        setup_logging(level)
        if level not in LEVELS:
            raise UsageError(f"-log-level: {level!r} is not one of {', '.join(LEVELS)}")
        code = body(values, positionals, api)
        return 0 if code is None else code
    except LifecycleError as e:
        log.error("%s", e)
        if level == "debug":
            traceback.print_exc()
        return _code(phase, e)
    except KeyboardInterrupt:
        log.error("%s: interrupted", phase)
        return 130
    except Exception as e:  # a bug: still one line, traceback only when asked
        log.error("%s: unexpected error: %s: %s", phase, type(e).__name__, e)
        if level == "debug":
            traceback.print_exc()
        return PHASE_ERRORS[phase].exit_code if phase in PHASE_ERRORS else 1


def _code(phase: str, err: LifecycleError) -> int:
    generic = type(err) in (LifecycleError, FileFormatError)
    if generic and phase in PHASE_ERRORS:
        return PHASE_ERRORS[phase].exit_code
    return err.exit_code
