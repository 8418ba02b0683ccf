"""Start the real ``docker-registry`` (distribution 2.8) for e2e tests, in three auth modes.

Each server listens on 127.0.0.1:<free port> (``REGISTRY_HTTP_ADDR=127.0.0.1:0``; the port is read
from ``listening on`` in its log), keeps storage under a temp dir, writes an access log, and is
killed by PID. Modes: ``anonymous``, ``basic`` (htpasswd, bcrypt) and ``token`` (tokenserver.py).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from lifecycle.oci.registry import Credential, StaticKeychain

USER = "alice"
PASSWORD = "s3cret-Pa55word"

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
  headers:
    X-Content-Type-Options: [nosniff]
"""
_NO_PROXY: Any = {"http": None, "https": None}
_ACCESS_RE = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


@dataclass(frozen=True)
class AccessEntry:
    """One access-log line: method, path (with query) and status."""

    method: str
    path: str
    status: int


@dataclass
class RegistryServer:
    """A running registry: ``host`` ("127.0.0.1:PORT"), ``url``, credentials, log path."""

    mode: str
    host: str
    log_path: Path
    root: Path
    pid: int
    username: str | None = None
    password: str | None = None
    token_server: object | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def creds(self) -> str | None:
        """``user:password`` for ``skopeo --creds``, or None when anonymous."""
        return f"{self.username}:{self.password}" if self.username else None

    def credential(self) -> Credential | None:
        if not self.username or not self.password:
            return None
        return Credential(username=self.username, password=self.password)

    def keychain(self) -> StaticKeychain:
        """A keychain holding this registry's credentials (empty when anonymous)."""
        cred = self.credential()
        return StaticKeychain({self.host: cred} if cred else {})

    def skopeo_args(self) -> list[str]:
        """``--tls-verify=false`` plus ``--creds`` when needed."""
        args = ["--tls-verify=false"]
        if self.creds:
            args += ["--creds", self.creds]
        return args

    def log_mark(self) -> int:
        """The current log size; pass to ``access_log(since=...)``."""
        return self.log_path.stat().st_size

    def access_log(self, since: int = 0) -> list[AccessEntry]:
        """Requests the registry logged after byte offset ``since``."""
        with self.log_path.open("rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        return [AccessEntry(m.group(1), m.group(2), int(m.group(3)))
                for m in _ACCESS_RE.finditer(text)]

    def blob_uploads(self, since: int = 0) -> int:
        """How many blob uploads completed (PUT .../blobs/uploads/... answered 201)."""
        return sum(1 for e in self.access_log(since)
                   if e.method == "PUT" and "/blobs/uploads/" in e.path and e.status == 201)


def registry_available() -> bool:
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
            resp = requests.get(f"{url}/v2/", timeout=2, proxies=_NO_PROXY)
            if resp.status_code in (200, 401):
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"registry at {url} not ready in {timeout}s")


def _auth_env(mode: str, workdir: Path) -> tuple[dict[str, str], object | None]:
    if mode == "anonymous":
        return {}, None
    if mode == "basic":
        out = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                             capture_output=True, text=True).stdout
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(out)
        return {"REGISTRY_AUTH": "htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM": "pypack-test",
                "REGISTRY_AUTH_HTPASSWD_PATH": str(htpasswd)}, None
    from tokenserver import TokenServer

    ts = TokenServer({USER: PASSWORD}).start()
    cert = ts.write_cert(workdir / "token-cert.pem")
    return {"REGISTRY_AUTH": "token", "REGISTRY_AUTH_TOKEN_REALM": ts.realm,
            "REGISTRY_AUTH_TOKEN_SERVICE": ts.service, "REGISTRY_AUTH_TOKEN_ISSUER": ts.issuer,
            "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": str(cert)}, ts


@contextmanager
def run_registry(workdir: Path, mode: str = "anonymous",
                 timeout: float = 15.0) -> Iterator[RegistryServer]:
    """Start a registry in ``workdir`` in ``mode``; stop it (and its token server) on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "data"
    cfg = workdir / "config.yml"
    cfg.write_text(_CONFIG.format(root=root))
    auth_env, token_server = _auth_env(mode, workdir)
    env = {**os.environ, "REGISTRY_HTTP_ADDR": "127.0.0.1:0",
           "REGISTRY_HTTP_SECRET": "pypack-test-secret", **auth_env,
           "REGISTRY_LOG_ACCESSLOG_DISABLED": "false"}
    log_path = workdir / "registry.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=workdir)
    try:
        port = _wait_port(log_path, proc, timeout)
        server = RegistryServer(mode, f"127.0.0.1:{port}", log_path, root, proc.pid,
                                USER if mode != "anonymous" else None,
                                PASSWORD if mode != "anonymous" else None, token_server, proc)
        _wait_ready(server.url, timeout)
        yield server
    finally:
        _stop(proc)
        if token_server is not None:
            token_server.stop()  # type: ignore[attr-defined]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
