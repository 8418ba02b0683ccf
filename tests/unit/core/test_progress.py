"""Transfer progress (lifecycle.progress): what is reported, when, and how it is shown."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from rich.console import Console

from lifecycle import progress


@pytest.fixture
def recorder() -> Iterator[progress.RecordingReporter]:
    rec = progress.RecordingReporter()
    previous = progress.install(rec)
    yield rec
    progress.install(previous)


def test_small_transfers_are_not_reported(recorder: progress.RecordingReporter) -> None:
    progress.track("tiny", progress.MIN_SIZE - 1).update(10)
    assert recorder.tasks == []
    progress.track("big", progress.MIN_SIZE).update(10)
    [big] = recorder.tasks
    assert (big.description, big.total, big.updates, big.finished) == \
        ("big", progress.MIN_SIZE, [10], 0)


def test_counting_reader_follows_reads_seeks_eof_and_close(
        recorder: progress.RecordingReporter) -> None:
    task = progress.track("x", 2 * progress.MIN_SIZE)
    reader = progress.CountingReader(io.BytesIO(b"abcdef"), task)
    assert reader.read(2) == b"ab" and reader.read(3) == b"cde"
    assert reader.seekable() and reader.seek(1) == 1
    assert reader.read(1) == b"b"
    assert reader.read(0) == b""  # not EOF
    assert reader.read() == b"cdef" and reader.read() == b""
    rec = recorder.tasks[0]
    assert rec.updates == [2, 5, 2, 6] and rec.finished == 1
    reader.close()
    assert rec.finished == 2  # finish is idempotent for real tasks


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
