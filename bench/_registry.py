"""A real ``docker-registry`` (distribution 2.8) for benchmarks: anonymous, on 127.0.0.1:0.

The minimal part of tests/e2e/registry_fixtures.py (benchmarks do not import from tests): start
the registry with a temp storage dir and an access log, read the port it chose from its log,
wait until ``/v2/`` answers, and stop it by PID. The access log tells what clients sent:
:meth:`Registry.uploads` lists completed blob uploads (``PUT .../blobs/uploads/...?digest=``
answered 201) after a :meth:`Registry.log_mark`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

_CONFIG = """version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
"""
_NO_PROXY: Any = {"http": None, "https": None}
_ACCESS_RE = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


@dataclass(frozen=True)
class Access:
    """One access-log line: method, path (with query) and status."""

    method: str
    path: str
    status: int


@dataclass(frozen=True)
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:PORT``."""

    host: str
    log_path: Path
    pid: int

    def log_mark(self) -> int:
        """The current size of the log; pass it to :meth:`access_log` or :meth:`uploads`."""
        return self.log_path.stat().st_size

    def access_log(self, since: int = 0) -> list[Access]:
        """The requests logged after byte offset ``since``."""
        with self.log_path.open("rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        return [Access(m.group(1), m.group(2), int(m.group(3)))
                for m in _ACCESS_RE.finditer(text)]

    def uploads(self, since: int = 0) -> list[str]:
        """Digests of the blob uploads completed after ``since`` (mounts are not uploads)."""
        out = []
        for e in self.access_log(since):
            if e.method == "PUT" and "/blobs/uploads/" in e.path and e.status == 201:
                out.append(parse_qs(urlsplit(e.path).query).get("digest", ["?"])[0])
        return out


def available() -> bool:
    """True when ``docker-registry`` is on PATH."""
    return shutil.which("docker-registry") is not None


def _wait_port(log_path: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(r"listening on [^\s\"]*:(\d+)", log_path.read_text(errors="replace"))
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log_path.read_text()[-2000:]}")
        time.sleep(0.02)
    raise RuntimeError(f"docker-registry did not listen in {timeout}s: {log_path}")


def _wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/v2/", timeout=2, proxies=_NO_PROXY).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"registry at {url} not ready in {timeout}s")


@contextmanager
def run_registry(workdir: Path, timeout: float = 15.0) -> Iterator[Registry]:
    """Start an anonymous registry keeping its data and log in ``workdir``; stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "config.yml"
    cfg.write_text(_CONFIG.format(root=workdir / "data"))
    env = {**os.environ, "REGISTRY_HTTP_ADDR": "127.0.0.1:0",
           "REGISTRY_HTTP_SECRET": "pypack-bench-secret",
           "REGISTRY_LOG_ACCESSLOG_DISABLED": "false"}
    log_path = workdir / "registry.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=workdir)
    try:
        port = _wait_port(log_path, proc, timeout)
        reg = Registry(f"127.0.0.1:{port}", log_path, proc.pid)
        _wait_ready(f"http://{reg.host}", timeout)
        yield reg
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
