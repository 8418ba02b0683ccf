"""What an in-house stack adds on top of a base image: files and users (``stack.toml``).

Issue #7 "In-house stacks". ``[[build.files]]``/``[[run.files]]`` copy a file of the stack
directory into the image (``src`` relative to the definition, absolute ``dest``, ``mode``,
``uid``/``gid``); ``[[build.users]]``/``[[run.users]]`` add accounts to ``/etc/passwd`` and
``/etc/group`` with a home directory. Parsed here from the schema-checked tables; the packages
and the environment of an image are plain lists and tables kept on
:class:`lifecycle.stack.definition.ImageSpec`.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import FileFormatError

CA_DIR = "usr/local/share/ca-certificates"
"""Where update-ca-certificates looks for local CA files (``*.crt``), relative to the root."""


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One file copied into the image: host ``src``, inside ``dest`` (relative, no ``/``)."""

    src: Path
    dest: str
    mode: int
    uid: int = 0
    gid: int = 0

    def digest_input(self) -> bytes:
        """What of this file determines the image: destination, owner, mode and content."""
        head = f"{self.dest}\0{self.mode:o}\0{self.uid}:{self.gid}\0".encode()
        return head + hashlib.sha256(self.src.read_bytes()).digest()


@dataclass(frozen=True, slots=True)
class UserSpec:
    """One account: ``group`` defaults to an existing group with ``gid``, else ``name``;
    ``home`` to ``/home/NAME``; ``shell`` to bash if the image has it, else ``/bin/sh``."""

    name: str
    uid: int
    gid: int
    group: str | None = None
    home: str | None = None
    shell: str | None = None

    @property
    def home_dir(self) -> str:
        """The home directory (absolute)."""
        return self.home or f"/home/{self.name}"


def inside_path(value: str, where: str) -> str:
    """``/etc/x/`` -> ``etc/x``; FileFormatError for a relative path or one leaving the root."""
    if not value.startswith("/"):
        raise FileFormatError(f"{where}: {value!r} must be an absolute path in the image")
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise FileFormatError(f"{where}: {value!r} must name a file below /")
    return posixpath.join(*parts)


def _mode(value: Any, src: Path, where: str) -> int:
    if value is None:
        return 0o755 if os.access(src, os.X_OK) else 0o644
    if isinstance(value, str):
        try:
            value = int(value, 8)
        except ValueError as e:
            raise FileFormatError(f"{where}.mode: {value!r} is not an octal mode") from e
    if not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise FileFormatError(f"{where}.mode: {value!r} is not a mode (e.g. \"0644\")")
    return value


def parse_files(items: Iterable[Mapping[str, Any]], base_dir: Path, where: str,
                ) -> tuple[FileSpec, ...]:
    """``[[files]]`` tables; ``src`` must be a regular file (relative to ``base_dir``)."""
    out: list[FileSpec] = []
    for n, d in enumerate(items):
        at = f"{where}[{n}]"
        src = Path(d["src"])
        src = src if src.is_absolute() else (base_dir / src)
        try:
            st = src.stat()
        except OSError as e:
            raise FileFormatError(f"{at}.src: {src}: {e.strerror}") from e
        if not stat.S_ISREG(st.st_mode):
            raise FileFormatError(f"{at}.src: {src} is not a regular file")
        out.append(FileSpec(src, inside_path(str(d["dest"]), f"{at}.dest"),
                            _mode(d.get("mode"), src, at), int(d.get("uid", 0)),
                            int(d.get("gid", 0))))
    return tuple(out)


def parse_users(items: Iterable[Mapping[str, Any]], where: str) -> tuple[UserSpec, ...]:
    """``[[users]]`` tables (``gid`` defaults to ``uid``)."""
    out: list[UserSpec] = []
    for n, d in enumerate(items):
        home = d.get("home")
        if home is not None:
            inside_path(str(home), f"{where}[{n}].home")
        uid = int(d["uid"])
        out.append(UserSpec(str(d["name"]), uid, int(d.get("gid", uid)), d.get("group"),
                            None if home is None else str(home), d.get("shell")))
    names = [u.name for u in out]
    if len(set(names)) != len(names):
        raise FileFormatError(f"{where}: a user is listed twice")
    return tuple(out)
