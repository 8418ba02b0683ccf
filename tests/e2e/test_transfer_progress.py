"""Transfer progress against the real registry: every byte of a large upload and download is
reported and the task finished; on a terminal ``pypack image copy`` draws rich bars."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_fixtures import RegistryServer

from lifecycle import client, progress
from lifecycle.oci.fixtures import random_image

pytestmark = pytest.mark.e2e

LAYER_BYTES = 3 << 20


@pytest.fixture
def recorder() -> Iterator[progress.RecordingReporter]:
    rec = progress.RecordingReporter()
    previous = progress.install(rec)
    yield rec
    progress.install(previous)


@pytest.fixture
def layout(tmp_path: Path) -> str:
    """An OCI layout with one ~3 MB (incompressible) layer."""
    img = random_image(1, seed=7, n_files=1, file_size=LAYER_BYTES)
    dest = f"oci:{tmp_path}/lay:app"
    client.write_image(img, dest, client.Context(store_root=str(tmp_path / "home")))
    return dest


def test_upload_and_download_report_every_byte(layout: str, registry: RegistryServer,
                                               recorder: progress.RecordingReporter,
                                               tmp_path: Path) -> None:
    ctx = client.Context(store_root=str(tmp_path / "home"))
    client.copy_image(layout, f"{registry.host}/progress/app:1", ctx)
    uploads = [t for t in recorder.tasks if t.description.startswith("Uploading")]
    assert len(uploads) == 1
    up = uploads[0]
    assert up.total > LAYER_BYTES and up.updates[-1] == up.total and up.finished
    assert up.updates == sorted(up.updates)

    recorder.tasks.clear()
    client.copy_image(f"{registry.host}/progress/app:1", f"oci:{tmp_path}/back:app", ctx)
    downloads = [t for t in recorder.tasks if t.description.startswith("Downloading")]
    assert len(downloads) == 1
    down = downloads[0]
    assert down.total == up.total and down.updates[-1] == up.total and down.finished


def test_cli_on_a_terminal_draws_bars(layout: str, registry: RegistryServer,
                                      tmp_path: Path) -> None:
    env = {**os.environ, "PYPACK_HOME": str(tmp_path / "home"), "COLUMNS": "120"}
    env.pop("PYPACK_PROGRESS", None)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle.cli.main", "image", "copy",
                             layout, f"{registry.host}/progress/tty:1"],
                            stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
                            env=env)
    os.close(secondary)
    out = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 0, out
    text = out.decode(errors="replace")
    assert "Uploading " in text and "MB" in text, text
    assert f"{registry.host}/progress/tty:1@sha256:" in text
