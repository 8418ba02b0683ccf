"""The buildpack log: ``ctx.log.info(...)`` to stdout, warnings and errors to stderr.

`buildpack.md` "Detection"/"Build": standard output carries the logs (info), standard error the
problems. The calls are ``logging.Logger``'s (``debug``, ``info``, ``warning``, ``error``,
``exception``, ``%``-style arguments), without importing ``logging`` (~6 ms of every buildpack
start). Debug lines show with ``BP_LOG_LEVEL=debug`` (set by ``configure``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

_debug = False


def configure(environ: Mapping[str, str]) -> None:
    """Show debug lines when ``BP_LOG_LEVEL`` is ``debug``."""
    global _debug
    _debug = environ.get("BP_LOG_LEVEL", "").lower() == "debug"


def debug_enabled() -> bool:
    """True when debug lines are shown."""
    return _debug


def _text(msg: object, args: tuple[object, ...]) -> str:
    text = str(msg)
    return text % args if args else text


class Log:
    """A named buildpack logger (the name is for the reader; output is not prefixed)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def debug(self, msg: object, *args: object) -> None:
        """A line on stdout when debug lines are shown."""
        if _debug:
            self._out(_text(msg, args))

    def info(self, msg: object, *args: object) -> None:
        """A line on stdout."""
        self._out(_text(msg, args))

    def warning(self, msg: object, *args: object) -> None:
        """``WARNING: ...`` on stderr."""
        self._err("WARNING", _text(msg, args))

    def error(self, msg: object, *args: object) -> None:
        """``ERROR: ...`` on stderr."""
        self._err("ERROR", _text(msg, args))

    def exception(self, msg: object, *args: object) -> None:
        """``ERROR: ...`` and the current exception's traceback on stderr."""
        import traceback

        self._err("ERROR", _text(msg, args))
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()

    @staticmethod
    def _out(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    @staticmethod
    def _err(level: str, text: str) -> None:
        sys.stdout.flush()
        sys.stderr.write(f"{level}: {text}\n")
        sys.stderr.flush()
