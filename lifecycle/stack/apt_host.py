"""Resolve and download the packages an in-house stack adds, with the host's apt, no root.

Issue #7. apt runs on the host with a private configuration (``APT_CONFIG``): the base
image's dpkg status as its status file (so only what the image lacks is chosen), the stack's
apt sources, the host's and the image's archive keyrings, package lists and ``.deb`` files
cached in the store, no locking, no recommends, no removals, and no "Essential" packages
pulled in. ``apt-get install -s`` names the packages and versions (the lock records them,
and pins them next time); ``apt-get install --download-only`` fetches them. Nothing is
installed here: :mod:`lifecycle.stack.debfile` extracts them.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import StackBuildError
from lifecycle.stack.mmdebstrap import classify, clean_env
from lifecycle.stack.sources import AptSource

log = logging.getLogger(__name__)

HOST_KEYRINGS = (Path("/etc/apt/trusted.gpg.d"), Path("/usr/share/keyrings"))
"""Where the host keeps archive keys (only ``*archive-keyring.gpg`` taken from keyrings/)."""
_INST = re.compile(r"^Inst (?P<name>[^\s:]+)(?::\S+)? (?:\[(?P<old>[^\]]+)\] )?"
                   r"\((?P<ver>\S+)(?: [^\[]*)?\[(?P<arch>[^\]]+)\]\)")


@dataclass(frozen=True, slots=True)
class Package:
    """One package apt chose: name, version, architecture, and the version it replaces."""

    name: str
    version: str
    arch: str
    replaces: str | None = None

    @property
    def deb_name(self) -> str:
        """The file name apt gives the download (``:`` in the version quoted)."""
        ver = self.version.replace("%", "%25").replace(":", "%3a").replace("_", "%5f")
        return f"{self.name}_{ver}_{self.arch}.deb"

    def pin(self) -> str:
        """``NAME=VERSION``."""
        return f"{self.name}={self.version}"


def parse_simulation(text: str) -> list[Package]:
    """The ``Inst`` lines of ``apt-get install -s`` in order."""
    out = []
    for line in text.splitlines():
        m = _INST.match(line)
        if m:
            out.append(Package(m["name"], m["ver"], m["arch"], m["old"]))
    return out


def config_text(root: Path, lists: Path, archives: Path, arch: str) -> str:
    """The apt configuration (see the module docstring); every path is absolute."""
    q = {k: str(v).replace('"', "") for k, v in
         {"etc": root / "etc", "lists": lists, "archives": archives, "root": root}.items()}
    lines = [
        f'Dir::Etc "{q["etc"]}/";',
        f'Dir::Etc::SourceList "{q["etc"]}/sources.list";',
        f'Dir::Etc::SourceParts "{q["etc"]}/sources.list.d/";',
        f'Dir::Etc::Trusted "{q["etc"]}/trusted.gpg";',
        f'Dir::Etc::TrustedParts "{q["etc"]}/trusted.gpg.d/";',
        f'Dir::Etc::Preferences "{q["etc"]}/preferences";',
        f'Dir::Etc::PreferencesParts "{q["etc"]}/preferences.d/";',
        f'Dir::State "{q["root"]}/state/";',
        f'Dir::State::Lists "{q["lists"]}/";',
        f'Dir::State::status "{q["root"]}/status";',
        f'Dir::Cache "{q["root"]}/cache/";',
        f'Dir::Cache::archives "{q["archives"]}/";',
        f'Dir::Log "{q["root"]}/log/";',
        f'APT::Architecture "{arch}";',
        f'APT::Architectures {{ "{arch}"; }};',
        'APT::Install-Recommends "false";',
        'APT::Install-Suggests "false";',
        'APT::Sandbox::User "root";',
        'Debug::NoLocking "true";',
        'Acquire::Languages "none";',
        'pkgCacheGen::Essential "none";',
    ]
    return "\n".join(lines) + "\n"


def lists_key(sources: Sequence[AptSource], arch: str) -> str:
    """The cache directory name for package lists of these sources."""
    raw = "\n".join([arch, *(s.line() for s in sources)]).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _keyrings(extra: Mapping[str, bytes]) -> dict[str, bytes]:
    """Archive keys: the host's, then the image's (``extra``: file name -> content)."""
    out: dict[str, bytes] = {}
    for d in HOST_KEYRINGS:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            keep = p.suffix in (".gpg", ".asc") and (d.name != "keyrings"
                                                     or p.name.endswith("archive-keyring.gpg"))
            if keep and p.is_file():
                out[f"host-{p.name}"] = p.read_bytes()
    out.update({f"image-{k}": v for k, v in extra.items()})
    return out


class HostApt:
    """apt on the host for one image: ``root`` a private work directory."""

    def __init__(self, root: Path, cache: Path, sources: Sequence[AptSource], arch: str,
                 status: bytes, keyrings: Mapping[str, bytes] | None = None) -> None:
        exe = shutil.which("apt-get")
        if exe is None:
            raise StackBuildError("apt-get is not installed on this host; an in-house stack "
                                  "that adds packages needs it (a Debian or Ubuntu host)")
        self.exe, self.root, self.arch = exe, root, arch
        self.lists = cache / "apt-lists" / lists_key(sources, arch)
        self.archives = cache / "apt"
        for d in (root / "etc" / "sources.list.d", root / "etc" / "trusted.gpg.d",
                  root / "etc" / "apt.conf.d",
                  root / "etc" / "preferences.d", root / "state", root / "cache",
                  root / "log", self.lists / "partial", self.archives / "partial"):
            d.mkdir(parents=True, exist_ok=True)
        (root / "etc" / "sources.list").write_text("".join(s.line() + "\n" for s in sources))
        for name, data in _keyrings(keyrings or {}).items():
            (root / "etc" / "trusted.gpg.d" / name).write_bytes(data)
        (root / "status").write_bytes(status)
        self.conf = root / "apt.conf"
        self.conf.write_text(config_text(root, self.lists, self.archives, arch))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.lists / ".pypack-lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _run(self, args: Sequence[str], label: str) -> str:
        env = clean_env(os.environ)
        env.update({"APT_CONFIG": str(self.conf), "LC_ALL": "C.UTF-8",
                    "DEBIAN_FRONTEND": "noninteractive"})
        tail: collections.deque[str] = collections.deque(maxlen=25)
        try:
            res = subprocess.run([self.exe, "-q", *args], env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, errors="replace",
                                 check=False, timeout=1800)
        except (OSError, subprocess.SubprocessError) as e:
            raise StackBuildError(f"{label}: cannot run apt-get: {e}") from e
        for line in (res.stdout + res.stderr).splitlines():
            if line.strip():
                tail.append(line)
                level, msg = classify(line)
                log.log(level if level != logging.INFO or msg.startswith("download ")
                        else logging.DEBUG, "%s: %s", label, msg)
        if res.returncode != 0:
            detail = "\n  ".join(tail)
            raise StackBuildError(f"{label}: apt-get {args[0]} failed (exit {res.returncode})"
                                  f"; last output:\n  {detail}\nIf a locked version is gone "
                                  "from the mirror, refresh the lock with --update.")
        return res.stdout

    def install(self, wanted: Sequence[str], label: str) -> list[tuple[Package, Path]]:
        """Resolve ``wanted`` (names or ``NAME=VERSION``) against the image's status and
        download what it lacks; the packages in apt's install order with their ``.deb``."""
        opts = ["--no-install-recommends", "--no-remove"]
        with self._locked():
            self._run(["update"], label)
            chosen = parse_simulation(self._run(["install", "-s", *opts, *wanted], label))
            if chosen:
                self._run(["install", "-y", "--download-only", *opts, *wanted], label)
        out = []
        for p in chosen:
            deb = self.archives / p.deb_name
            if not deb.is_file():
                raise StackBuildError(f"{label}: apt downloaded no {deb.name}")
            if p.replaces is not None:
                log.warning("%s: %s %s replaces the base image's %s (files the old version "
                            "had and the new one lacks stay)", label, p.name, p.version,
                            p.replaces)
            out.append((p, deb))
        return out
