"""Read an app's git checkout (HEAD commit, branch, tags at HEAD, remote URL) without running git.

Feeds ``project-metadata.toml`` the way pack fills it (``pkg/project/v02/metadata.go``,
``GitMetadata``), from the files under ``<app>/.git`` only: ``HEAD``, loose refs,
``packed-refs`` (with peeled lines), loose tag objects (zlib) and ``config``. A ``.git`` file
(``gitdir: ...``, worktrees and submodules) and ``commondir`` are followed. Like pack (go-git's
``PlainOpen``), only ``<app>/.git`` counts, not a repository in a parent directory; an unborn
HEAD or unreadable refs give ``None``. Credentials in an http(s) remote URL are removed (pack
copies them into the image label).
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_SECTION = re.compile(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')


@dataclass(frozen=True, slots=True)
class GitInfo:
    """What a build records about the app's checkout."""

    commit: str
    branch: str = ""
    tags: tuple[str, ...] = ()
    remote_url: str = ""

    @property
    def describe(self) -> str:
        """pack's ``describe`` when HEAD is tagged (the first tag), else the full commit."""
        return self.tags[0] if self.tags else self.commit

    @property
    def refs(self) -> tuple[str, ...]:
        """pack's ``refs``: the branch (when not detached), then the tags at HEAD."""
        return ((self.branch,) if self.branch else ()) + self.tags


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    annotated: bool
    time: int = 0


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _git_dirs(app_dir: Path) -> tuple[Path, Path] | None:
    """``(gitdir, commondir)`` of ``<app>/.git``, or ``None`` when it is not a checkout."""
    dot = app_dir / ".git"
    if dot.is_dir():
        gitdir = dot
    elif dot.is_file():
        text = (_read_text(dot) or "").strip()
        if not text.startswith("gitdir:"):
            return None
        gitdir = app_dir / text[len("gitdir:"):].strip()
    else:
        return None
    common = gitdir
    commondir = _read_text(gitdir / "commondir")
    if commondir is not None:
        common = gitdir / commondir.strip()
    return (gitdir, common) if (gitdir / "HEAD").is_file() else None


def _packed_refs(common: Path) -> dict[str, tuple[str, str | None]]:
    """``packed-refs``: ref name to (object, peeled object of an annotated tag)."""
    out: dict[str, tuple[str, str | None]] = {}
    last: str | None = None
    for line in (_read_text(common / "packed-refs") or "").splitlines():
        if line.startswith("^") and last is not None:
            out[last] = (out[last][0], line[1:].strip())
        elif line and not line.startswith("#"):
            sha, _, name = line.partition(" ")
            if _SHA.match(sha) and name:
                out[name.strip()] = (sha, None)
                last = name.strip()
    return out


def _resolve(ref: str, dirs: tuple[Path, Path], packed: dict[str, tuple[str, str | None]],
             depth: int = 0) -> str | None:
    """The object a ref (possibly symbolic) points at, or ``None``."""
    if depth > 5:
        return None
    for base in dirs:
        text = _read_text(base / ref)
        if text is None:
            continue
        text = text.strip()
        if text.startswith("ref:"):
            return _resolve(text[4:].strip(), dirs, packed, depth + 1)
        return text if _SHA.match(text) else None
    entry = packed.get(ref)
    return entry[0] if entry else None


def _loose_tags(common: Path) -> dict[str, str]:
    root = common / "refs" / "tags"
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            sha = (_read_text(path) or "").strip()
            if _SHA.match(sha):
                out[path.relative_to(common).as_posix()] = sha
    return out


def _tag_object(common: Path, sha: str) -> tuple[str, str, int] | None:
    """A loose annotated tag object: (target, tag name, tagger time), else ``None``."""
    try:
        raw = zlib.decompress((common / "objects" / sha[:2] / sha[2:]).read_bytes())
    except (OSError, zlib.error):
        return None
    header, _, body = raw.partition(b"\0")
    if not header.startswith(b"tag "):
        return None
    fields: dict[str, str] = {}
    for line in body.split(b"\n\n", 1)[0].decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        fields.setdefault(key, value)
    parts = fields.get("tagger", "").split()
    when = int(parts[-2]) if len(parts) >= 2 and parts[-2].isdigit() else 0
    return fields.get("object", ""), fields.get("tag", ""), when


def _tags_at(commit: str, common: Path, packed: dict[str, tuple[str, str | None]]
             ) -> tuple[str, ...]:
    """Tags pointing at ``commit`` in pack's order: annotated (newest first; by name when the
    tag object is packed and its time unknown), then lightweight by name."""
    refs = {name: entry for name, entry in packed.items() if name.startswith("refs/tags/")}
    refs.update({name: (sha, None) for name, sha in _loose_tags(common).items()})
    found: list[_Tag] = []
    for ref, (sha, peeled) in refs.items():
        short = ref[len("refs/tags/"):]
        if sha == commit:
            found.append(_Tag(short, annotated=False))
            continue
        if peeled is not None and peeled != commit:
            continue  # packed-refs already says where this annotated tag points
        obj = _tag_object(common, sha)
        if obj is not None and obj[0] == commit:
            found.append(_Tag(obj[1] or short, annotated=True, time=obj[2]))
        elif obj is None and peeled == commit:
            found.append(_Tag(short, annotated=True))
    annotated = sorted((t for t in found if t.annotated), key=lambda t: (-t.time, t.name))
    plain = sorted((t for t in found if not t.annotated), key=lambda t: t.name)
    return tuple(t.name for t in (*annotated, *plain))


def _config_value(raw: str) -> str:
    out, quoted, i = [], False, 0
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and i + 1 < len(raw):
            i += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(raw[i], raw[i]))
        elif ch in "#;" and not quoted:
            break
        else:
            out.append(ch)
        i += 1
    return "".join(out).strip()


def remote_urls(config_text: str) -> dict[str, str]:
    """The first ``url`` of each ``[remote "<name>"]`` in a git config, in file order."""
    urls: dict[str, str] = {}
    remote: str | None = None
    for raw in config_text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            section, sub = m.group(1).lower(), m.group(2)
            if sub is None and "." in section:
                section, _, sub = section.partition(".")
            remote = sub if section == "remote" else None
            continue
        key, eq, value = line.partition("=")
        if remote is not None and eq and key.strip().lower() == "url":
            urls.setdefault(remote, _config_value(value))
    return urls


def strip_credentials(url: str) -> str:
    """Remove the user info of an http(s) URL and any password elsewhere."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc or not parts.scheme:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    if parts.scheme.lower() in ("http", "https"):
        netloc = host
    else:
        netloc = f"{userinfo.partition(':')[0]}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def read(app_dir: str | os.PathLike[str]) -> GitInfo | None:
    """The checkout at ``<app_dir>/.git``, or ``None`` (not a repository, or no commit yet)."""
    dirs = _git_dirs(Path(app_dir))
    if dirs is None:
        return None
    gitdir, common = dirs
    packed = _packed_refs(common)
    head = (_read_text(gitdir / "HEAD") or "").strip()
    branch = ""
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref.split("/", 2)[2] if ref.count("/") >= 2 else ""
        commit = _resolve(ref, dirs, packed)
    else:
        commit = head if _SHA.match(head) else None
    if commit is None:
        log.debug("%s: no commit at HEAD; no git project metadata", app_dir)
        return None
    urls = remote_urls(_read_text(common / "config") or "")
    url = urls.get("origin") or next(iter(urls.values()), "")
    return GitInfo(commit=commit, branch=branch, tags=_tags_at(commit, common, packed),
                   remote_url=strip_credentials(url))
