"""The dpkg database entries of packages unpacked without dpkg: status, info files, filters.

dpkg(1) and deb-control(5): ``/var/lib/dpkg/status`` holds one paragraph per package (the
control fields plus ``Status: install ok installed`` and ``Conffiles``, in dpkg's field order,
paragraphs sorted by name); ``/var/lib/dpkg/info/PKG.list`` lists the package's paths
(``/.`` first, in archive order); the control archive's other members (``md5sums``,
``conffiles``, maintainer scripts, ``shlibs``, ...) are kept as ``info/PKG.<member>``. A
``Multi-Arch: same`` package is named ``PKG:ARCH`` there. ``path-exclude``/``path-include``
filters (dpkg.cfg, ``--dpkgopt``) drop files as dpkg would: the last matching filter decides.
Pure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

INFO_DIR = "var/lib/dpkg/info"
STATUS = "var/lib/dpkg/status"
_ORDER = ("Package", "Essential", "Protected", "Status", "Priority", "Section",
          "Installed-Size", "Origin", "Maintainer", "Bugs", "Architecture", "Multi-Arch",
          "Source", "Version", "Config-Version", "Replaces", "Provides", "Depends",
          "Pre-Depends", "Recommends", "Suggests", "Breaks", "Conflicts", "Enhances",
          "Conffiles", "Description", "Triggers-Pending", "Triggers-Awaited")
"""dpkg's field order for status paragraphs; other fields follow in their control order."""
_SKIP = frozenset({"Status", "Conffiles", "Config-Version"})


def parse_paragraph(text: str) -> list[tuple[str, str]]:
    """The fields of one control paragraph in order; continuation lines kept in the value."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and out:
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
        else:
            key, _, value = line.partition(":")
            out.append((key.strip(), value.strip()))
    return out


def field(fields: Sequence[tuple[str, str]], key: str, default: str = "") -> str:
    """The value of ``key`` (case-insensitive) or ``default``."""
    low = key.lower()
    return next((v for k, v in fields if k.lower() == low), default)


@dataclass(frozen=True, slots=True)
class Installed:
    """A package as unpacked: its control fields, conffiles with their md5, and paths."""

    fields: tuple[tuple[str, str], ...]
    conffiles: tuple[tuple[str, str], ...] = ()
    paths: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The package name."""
        return field(self.fields, "Package")

    @property
    def arch(self) -> str:
        """The package architecture."""
        return field(self.fields, "Architecture", "all")

    @property
    def version(self) -> str:
        """The package version."""
        return field(self.fields, "Version")

    @property
    def info_name(self) -> str:
        """``PKG`` or, for ``Multi-Arch: same``, ``PKG:ARCH`` (the info file prefix)."""
        same = field(self.fields, "Multi-Arch") == "same"
        return f"{self.name}:{self.arch}" if same else self.name

    def status_paragraph(self) -> str:
        """The paragraph dpkg would write for this package once configured."""
        known = {k.lower(): (k, v) for k, v in self.fields if k not in _SKIP}
        extra = dict(known)
        out: list[str] = []
        for key in _ORDER:
            if key == "Status":
                out.append("Status: install ok installed")
            elif key == "Conffiles" and self.conffiles:
                out.append("Conffiles:" + "".join(f"\n {p} {m}" for p, m in self.conffiles))
            elif key.lower() in known:
                k, v = extra.pop(key.lower())
                out.append(f"{k}: {v}")
        out += [f"{k}: {v}" for k, v in extra.values()]
        return "\n".join(out) + "\n"

    def list_text(self) -> str:
        """``info/PKG.list``."""
        return "".join(f"{p}\n" for p in self.paths)


def _key(fields: Sequence[tuple[str, str]]) -> tuple[str, str]:
    return field(fields, "Package"), field(fields, "Architecture", "all")


def merge_status(base: str, added: Iterable[Installed]) -> str:
    """``base``'s status with the paragraphs of ``added`` (replacing same name and arch),
    sorted by package name then architecture."""
    paragraphs: dict[tuple[str, str], str] = {}
    for para in base.split("\n\n"):
        fields = parse_paragraph(para)
        if fields and field(fields, "Package"):
            paragraphs[_key(fields)] = para.strip("\n") + "\n"
    for pkg in added:
        same = [k for k in paragraphs if k[0] == pkg.name and
                (k[1] == pkg.arch or "all" in (k[1], pkg.arch))]
        for k in same:
            del paragraphs[k]
        paragraphs[(pkg.name, pkg.arch)] = pkg.status_paragraph()
    return "".join(paragraphs[k] + "\n" for k in sorted(paragraphs))


def info_files(pkg: Installed, control: Mapping[str, bytes]) -> dict[str, bytes]:
    """``var/lib/dpkg/info/*`` for ``pkg``: its ``.list`` and the control archive's members
    other than ``control``."""
    out = {f"{INFO_DIR}/{pkg.info_name}.list": pkg.list_text().encode()}
    for member, data in control.items():
        if member != "control" and "/" not in member:
            out[f"{INFO_DIR}/{pkg.info_name}.{member}"] = data
    return out


def conffile_paths(control: Mapping[str, bytes]) -> list[str]:
    """The conffiles a package declares (``remove-on-upgrade`` entries left out)."""
    text = control.get("conffiles", b"").decode("utf-8", "replace")
    return [ln.strip() for ln in text.splitlines()
            if ln.strip().startswith("/")]


Filter = tuple[bool, str]
"""(True for path-include / False for path-exclude, glob pattern)."""


def excluded(path: str, filters: Sequence[Filter]) -> bool:
    """True if dpkg's path filters drop ``path`` (absolute): the last filter matching it is
    an exclude (fnmatch without FNM_PATHNAME: ``*`` matches ``/`` too)."""
    verdict = False
    for include, pattern in filters:
        if fnmatch.fnmatchcase(path, pattern):
            verdict = not include
    return verdict


def config_filters(texts: Iterable[str]) -> list[Filter]:
    """The path filters of dpkg configuration files (``path-exclude=GLOB`` lines), in order."""
    out: list[Filter] = []
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            for key, include in (("path-exclude", False), ("path-include", True)):
                rest = line[len(key):]
                if line.startswith(key) and rest[:1] in ("=", " ", "\t"):
                    out.append((include, rest[1:].strip()))
    return out


def definition_filters(excludes: Sequence[str], includes: Sequence[str]) -> list[Filter]:
    """A stack definition's ``[dpkg]`` filters: excludes, then includes (as mmdebstrap passes
    them to dpkg)."""
    return [(False, p) for p in excludes] + [(True, p) for p in includes]
