"""Prepare the app directory for a build: copy it honouring project.toml or ``.gitignore``, and
derive ``project-metadata.toml``.

Project descriptor ``io.buildpacks.include``/``exclude``: "files that are excluded MUST BE
excluded before the build", so the lifecycle's ``<app>`` is a filtered copy (pack tars the app
into the build container with a file filter, ``internal/build/container_ops.go`` ``CopyDir``).
The selection is, per :mod:`lifecycle.project.ignore`:

- ``include``: only paths the globs match (a matched directory brings its whole subtree;
  directories holding a match are created);
- ``exclude``: everything but the paths the globs match;
- neither: everything ``.gitignore`` files (the root's and nested ones) do not ignore.

``.git`` is never copied. Regular files are copied with their mode and times, symlinks are
copied as symlinks (not followed, whatever they point at), directories keep their mode and
times; sockets, FIFOs and devices are skipped. Ownership is not changed (the sandbox maps ids).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lifecycle.errors import LifecycleError, UsageError
from lifecycle.platform.labels_build import ProjectMetadata, ProjectSource
from lifecycle.project import gitinfo, ignore
from lifecycle.project.descriptor import ProjectDescriptor

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Mode = Literal["include", "exclude", "gitignore"]
_CHUNK = 1 << 30


@dataclass(frozen=True, slots=True)
class PreparedApp:
    """The result of :func:`prepare_app`: where the copy is and what went into it."""

    path: Path
    mode: Mode
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    bytes: int = 0
    excluded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    rel: str
    kind: Literal["dir", "file", "symlink", "other"]
    st: os.stat_result


def _kind(st: os.stat_result) -> Literal["dir", "file", "symlink", "other"]:
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISREG(st.st_mode):
        return "file"
    return "symlink" if stat.S_ISLNK(st.st_mode) else "other"


def selection_mode(descriptor: ProjectDescriptor) -> Mode:
    """Which rule selects files: the descriptor's include, its exclude, or ``.gitignore``."""
    if descriptor.include:
        return "include"
    return "exclude" if descriptor.exclude else "gitignore"


@dataclass(slots=True)
class _Pending:
    entry: _Entry
    emitted: bool = False


class _Walker:
    """Walks the source tree once, yielding the entries to copy (parents before children).

    In include mode a directory that does not match is held back (``_pending``) until
    something inside it is selected, so directories holding no match are not created."""

    def __init__(self, root: Path, mode: Mode, globs: tuple[str, ...]) -> None:
        self.root = root
        self.mode = mode
        self.rules = ignore.Rules.from_globs(globs) if globs else ignore.Rules()
        self.excluded: list[str] = []
        self._pending: list[_Pending] = []

    def walk(self) -> Iterator[_Entry]:
        yield from self._dir("", self.rules, matched=False)

    def _gitignore(self, rel: str, rules: ignore.Rules) -> ignore.Rules:
        path = self.root / rel / ".gitignore"
        if path.is_symlink() or not path.is_file():  # git does not follow a symlinked one
            return rules
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        return rules.with_patterns(ignore.parse_text(text, rel))

    def _flush(self) -> Iterator[_Entry]:
        for p in self._pending:
            if not p.emitted:
                p.emitted = True
                yield p.entry

    def _dir(self, rel: str, rules: ignore.Rules, matched: bool) -> Iterator[_Entry]:
        if self.mode == "gitignore":
            rules = self._gitignore(rel, rules)
        with os.scandir(self.root / rel) as it:
            children = sorted(it, key=lambda e: e.name)
        for child in children:
            crel = f"{rel}/{child.name}" if rel else child.name
            is_dir = child.is_dir(follow_symlinks=False)
            hit = matched or rules.match(crel, is_dir)
            if ignore.is_git_dir(child.name) or (self.mode != "include" and hit):
                self.excluded.append(crel)
                continue
            st = child.stat(follow_symlinks=False)
            entry = _Entry(crel, _kind(st), st)
            if self.mode == "include" and not hit:
                if is_dir:  # a match may lie deeper: create this directory only then
                    self._pending.append(_Pending(entry))
                    yield from self._dir(crel, rules, False)
                    self._pending.pop()
                continue
            yield from self._flush()
            yield entry
            if is_dir:
                yield from self._dir(crel, rules, hit and self.mode == "include")


def _copy_file(src: Path, dst: Path, st: os.stat_result) -> None:
    """Copy one regular file in the kernel (``sendfile``), then its mode and times, by fd."""
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                       0o600)
        try:
            offset = 0
            while n := os.sendfile(fout, fin, offset, _CHUNK):
                offset += n
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _copy_entry(src: Path, dst: Path, entry: _Entry) -> None:
    st = entry.st
    if entry.kind == "dir":
        os.mkdir(dst, 0o700)  # final mode and times once its contents are in
    elif entry.kind == "file":
        _copy_file(src, dst, st)
    else:
        os.symlink(os.readlink(src), dst)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _fresh_dest(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: the app copy must go to a new or empty directory")
    dest.mkdir(parents=True, exist_ok=True)


def prepare_app(src: PathLike, dest: PathLike,
                descriptor: ProjectDescriptor | None = None) -> PreparedApp:
    """Copy the app directory ``src`` into the fresh directory ``dest`` (see module docs);
    no descriptor means no project.toml (``.gitignore`` rules)."""
    root, out = Path(src), Path(dest)
    descriptor = descriptor or ProjectDescriptor()
    if not root.is_dir():
        raise UsageError(f"{root}: app directory not found")
    mode = selection_mode(descriptor)
    walker = _Walker(root, mode, descriptor.include or descriptor.exclude)
    counts = {"file": 0, "dir": 0, "symlink": 0}
    size, skipped, dirs = 0, [], []
    _fresh_dest(out)
    try:
        for entry in walker.walk():
            if entry.kind == "other":
                skipped.append(entry.rel)
                log.debug("%s: not a file, directory or symlink; skipped", root / entry.rel)
                continue
            _copy_entry(root / entry.rel, out / entry.rel, entry)
            counts[entry.kind] += 1
            size += entry.st.st_size if entry.kind == "file" else 0
            if entry.kind == "dir":
                dirs.append(entry)
        root_st = root.stat()
        for d in [*reversed(dirs), _Entry("", "dir", root_st)]:
            target = out / d.rel if d.rel else out
            os.chmod(target, stat.S_IMODE(d.st.st_mode))
            os.utime(target, ns=(d.st.st_atime_ns, d.st.st_mtime_ns))
    except OSError as e:
        where = e.filename or root
        raise LifecycleError(f"copying the app {root} to {out}: {where}: {e.strerror}") from e
    log.debug("app %s copied to %s (%s): %d files, %d bytes, %d excluded", root, out, mode,
              counts["file"], size, len(walker.excluded))
    return PreparedApp(path=out, mode=mode, files=counts["file"], dirs=counts["dir"],
                       symlinks=counts["symlink"], bytes=size,
                       excluded=tuple(walker.excluded), skipped=tuple(skipped))


def project_metadata(src: PathLike,
                     descriptor: ProjectDescriptor | None = None) -> ProjectMetadata:
    """``project-metadata.toml`` as pack writes it (``pkg/client/build.go``): a declared
    version or source URL gives ``type = "project"``; else the app's git checkout gives
    ``type = "git"`` (version ``commit``/``describe``, metadata ``refs``/``url``); else none."""
    if descriptor is not None and (descriptor.version or descriptor.source_url):
        return ProjectMetadata(ProjectSource(type="project",
                                             version={"declared": descriptor.version},
                                             metadata={"url": descriptor.source_url}))
    info = gitinfo.read(src)
    if info is None:
        return ProjectMetadata()
    return ProjectMetadata(ProjectSource(
        type="git", version={"commit": info.commit, "describe": info.describe},
        metadata={"refs": list(info.refs), "url": info.remote_url}))
