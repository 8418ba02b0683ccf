"""Progress of long transfers: registry uploads and downloads (issue 6, "Long downloads and
uploads show progress").

A process-wide reporter, configured once like logging: code that moves a blob asks
:func:`track` for a :class:`Task` and reports how many bytes are done; what the user sees depends
on the reporter the CLI installs (:func:`install`):

- :class:`RichReporter` on a terminal: a ``rich`` bar per transfer (size, speed, time left),
  removed when the transfer ends (the ``uploaded blob ...`` log line stays);
- :class:`LogReporter` otherwise (CI logs): one line per transfer every ``interval`` seconds
  while it runs (``Uploading sha256:abc...: 120.0 of 265.0 MB (45%)``), nothing for quick ones;
- nothing (the default): library callers and the lifecycle phase programs stay quiet, as the
  Go lifecycle.

Transfers smaller than :data:`MIN_SIZE` are never reported. :class:`CountingReader` turns reads
of a stream into task updates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("lifecycle.progress")

MIN_SIZE = 1 << 20
"""Transfers smaller than this (1 MiB) are not reported."""


class Task(Protocol):
    """One transfer: ``update`` with the bytes done so far, ``finish`` once (idempotent)."""

    def update(self, done: int) -> None: ...

    def finish(self) -> None: ...


class Reporter(Protocol):
    """Makes a Task for a transfer of ``total`` bytes described by ``description``."""

    def task(self, description: str, total: int) -> Task: ...

    def close(self) -> None: ...


class _NullTask:
    def update(self, done: int) -> None:
        pass

    def finish(self) -> None:
        pass


class NullReporter:
    """Reports nothing (the default)."""

    def task(self, description: str, total: int) -> Task:
        return _NullTask()

    def close(self) -> None:
        pass


class Recorded:
    """One transfer a RecordingReporter saw: every update, and whether it finished."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total = description, total
        self.updates: list[int] = []
        self.finished = 0

    def update(self, done: int) -> None:
        self.updates.append(done)

    def finish(self) -> None:
        self.finished += 1


class RecordingReporter:
    """Keeps every transfer (``tasks``): for tests and for callers that report elsewhere."""

    def __init__(self) -> None:
        self.tasks: list[Recorded] = []

    def task(self, description: str, total: int) -> Task:
        rec = Recorded(description, total)
        self.tasks.append(rec)
        return rec

    def close(self) -> None:
        pass


_current: Reporter = NullReporter()


def install(reporter: Reporter) -> Reporter:
    """Make ``reporter`` the process's reporter; returns the one it replaces."""
    global _current
    previous, _current = _current, reporter
    return previous


def current() -> Reporter:
    """The installed reporter."""
    return _current


def track(description: str, total: int) -> Task:
    """A task for a transfer of ``total`` bytes (a silent one below MIN_SIZE)."""
    if total < MIN_SIZE:
        return _NullTask()
    return _current.task(description, total)


def mb(n: int) -> str:
    """``n`` bytes in MB with one decimal."""
    return f"{n / 1e6:.1f}"


# --- log lines ---------------------------------------------------------------------------------
class _LogTask:
    def __init__(self, owner: LogReporter, description: str, total: int) -> None:
        self.owner, self.description, self.total = owner, description, total
        self.next_at = owner.clock() + owner.interval
        self.done_ = False

    def update(self, done: int) -> None:
        now = self.owner.clock()
        if self.done_ or now < self.next_at:
            return
        self.next_at = now + self.owner.interval
        pct = 100 * done // self.total if self.total else 100
        self.owner.logger.info("%s: %s of %s MB (%d%%)", self.description, mb(done),
                               mb(self.total), pct)

    def finish(self) -> None:
        self.done_ = True


class LogReporter:
    """A log line per running transfer every ``interval`` seconds (module docstring)."""

    def __init__(self, interval: float = 5.0, logger: logging.Logger | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.logger = logger or log
        self.clock = clock

    def task(self, description: str, total: int) -> Task:
        return _LogTask(self, description, total)

    def close(self) -> None:
        pass


# --- rich bars ---------------------------------------------------------------------------------
class _RichTask:
    def __init__(self, owner: RichReporter, task_id: Any) -> None:
        self.owner, self.task_id = owner, task_id
        self.finished = False

    def update(self, done: int) -> None:
        if not self.finished:
            self.owner.bars.update(self.task_id, completed=done)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.owner.bars.remove_task(self.task_id)
        self.owner.release()


class RichReporter:
    """``rich`` progress bars on a terminal (module docstring); the display runs while any
    transfer does. ``console`` defaults to stderr. ``rich`` is imported at the first transfer,
    not at every command's start."""

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._bars: Any = None
        self._lock = threading.Lock()
        self._running = 0

    @property
    def bars(self) -> Any:
        """The ``rich.progress.Progress`` (made on first use)."""
        if self._bars is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bars = Progress(TextColumn("{task.description}"), BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                                  console=self._console or Console(stderr=True), transient=True)
        return self._bars

    def task(self, description: str, total: int) -> Task:
        with self._lock:
            if self._running == 0:
                self.bars.start()
            self._running += 1
        task = _RichTask(self, self.bars.add_task(description, total=total))
        self.bars.refresh()  # show the new bar now, not at the next tick
        return task

    def release(self) -> None:
        """A task finished: stop the display when it was the last."""
        with self._lock:
            if self._running == 0:  # closed meanwhile
                return
            self._running -= 1
            if self._running == 0:
                self.bars.stop()

    def close(self) -> None:
        with self._lock:
            if self._running:
                self._running = 0
                self.bars.stop()


def for_terminal(stream: Any, setting: str) -> Reporter:
    """The reporter for ``PYPACK_PROGRESS`` = ``setting`` (``auto``, ``bar``, ``log``, ``off``;
    anything else is ``auto``): ``auto`` gives bars when ``stream`` is a terminal, else log
    lines."""
    if setting == "off":
        return NullReporter()
    if setting == "log":
        return LogReporter()
    if setting == "bar" or (hasattr(stream, "isatty") and stream.isatty()):
        return RichReporter()
    return LogReporter()


# --- streams -----------------------------------------------------------------------------------
class Stream(Protocol):
    """What CountingReader wraps: a binary file or an HTTP response body."""

    def read(self, n: int = -1, /) -> bytes: ...

    def seekable(self) -> bool: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def close(self) -> None: ...


class CountingReader:
    """A binary stream that reports its position to ``task`` as it is read, and finishes the
    task at EOF or (unless the caller owns the task: an upload re-opens its blob for a retry)
    at close. Seeks (a retried upload re-reading from an offset) are followed."""

    def __init__(self, raw: Stream, task: Task, start: int = 0, *,
                 finish_on_close: bool = True) -> None:
        self._raw = raw
        self._task = task
        self._pos = start
        self._finish_on_close = finish_on_close

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if data:
            self._pos += len(data)
            self._task.update(self._pos)
        elif n != 0:
            self._task.finish()
        return data

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = self._raw.seek(offset, whence)
        return self._pos

    def close(self) -> None:
        if self._finish_on_close:
            self._task.finish()
        self._raw.close()
