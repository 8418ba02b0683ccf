"""Transfer progress (lifecycle.progress): what is reported, when, and how it is shown."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from lifecycle import progress


class Recorder:
    """A reporter that keeps every task's updates."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int, list[int], list[bool]]] = []

    def task(self, description: str, total: int) -> progress.Task:
        updates: list[int] = []
        finished: list[bool] = []
        self.tasks.append((description, total, updates, finished))

        class T:
            def update(self, done: int) -> None:
                updates.append(done)

            def finish(self) -> None:
                finished.append(True)
        return T()

    def close(self) -> None:
        pass


@pytest.fixture
def recorder() -> object:
    rec = Recorder()
    previous = progress.install(rec)
    yield rec
    progress.install(previous)


def test_small_transfers_are_not_reported(recorder: Recorder) -> None:
    progress.track("tiny", progress.MIN_SIZE - 1).update(10)
    assert recorder.tasks == []
    progress.track("big", progress.MIN_SIZE).update(10)
    assert recorder.tasks == [("big", progress.MIN_SIZE, [10], [])]


def test_counting_reader_follows_reads_seeks_eof_and_close(recorder: Recorder) -> None:
    task = progress.track("x", 2 * progress.MIN_SIZE)
    reader = progress.CountingReader(io.BytesIO(b"abcdef"), task)
    assert reader.read(2) == b"ab" and reader.read(3) == b"cde"
    assert reader.seekable() and reader.seek(1) == 1
    assert reader.read(1) == b"b"
    assert reader.read(0) == b""  # not EOF
    assert reader.read() == b"cdef" and reader.read() == b""
    _, _, updates, finished = recorder.tasks[0]
    assert updates == [2, 5, 2, 6] and finished == [True]
    reader.close()
    assert finished == [True, True]  # finish is idempotent for real tasks


def test_log_lines_at_most_every_interval() -> None:
    now = [100.0]
    records: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.progress")
    logger.addHandler(Catch())
    logger.setLevel(logging.INFO)
    task = progress.LogReporter(5, logger, clock=lambda: now[0]).task("Uploading abc", 200_000_000)
    task.update(1_000_000)  # quick: nothing yet
    now[0] += 6
    task.update(50_000_000)
    now[0] += 1
    task.update(60_000_000)  # within the interval
    now[0] += 5
    task.finish()
    task.update(200_000_000)  # finished: silent
    assert records == ["Uploading abc: 50.0 of 200.0 MB (25%)"]


def test_rich_bars_show_while_transfers_run() -> None:
    out = io.StringIO()
    rep = progress.RichReporter(Console(file=out, force_terminal=True, width=100))
    a = rep.task("Uploading aaaa", 10_000_000)
    b = rep.task("Downloading bbbb", 10_000_000)
    a.update(5_000_000)
    rep.bars.refresh()
    assert "Uploading aaaa" in out.getvalue() and "Downloading bbbb" in out.getvalue()
    a.finish()
    a.finish()
    assert rep.bars.live.is_started
    b.finish()
    assert not rep.bars.live.is_started
    rep.close()


@pytest.mark.parametrize("setting,tty,kind", [
    ("auto", True, progress.RichReporter), ("auto", False, progress.LogReporter),
    ("bar", False, progress.RichReporter), ("log", True, progress.LogReporter),
    ("off", True, progress.NullReporter), ("junk", False, progress.LogReporter)])
def test_reporter_choice(setting: str, tty: bool, kind: type) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert isinstance(progress.for_terminal(Stream(), setting), kind)
