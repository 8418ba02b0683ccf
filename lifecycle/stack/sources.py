"""Where packages come from: apt sources from ``--mirror``, the stack file, or the host.

Resolution order: the ``--mirror`` values, else the definition's ``mirror``, else the host's apt
sources (``/etc/apt/sources.list`` one-line format and ``/etc/apt/sources.list.d/*.list`` /
``*.sources`` deb822 format). A mirror value is a URL or a one-line ``deb URI SUITE COMP...``
entry. A bare URL serves every suite of the stack, except ``-security`` suites, which Debian
publishes beside the archive (``.../debian`` -> ``.../debian-security``). The result never enters
an image or a committed file: images and cache keys are mirror-independent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import FileFormatError, UsageError

log = logging.getLogger(__name__)

APT_DIR = Path("/etc/apt")


@dataclass(frozen=True, slots=True)
class AptSource:
    """One ``deb`` entry: a URI, one suite and its components."""

    uri: str
    suite: str
    components: tuple[str, ...]

    def line(self) -> str:
        """The one-line form mmdebstrap takes as a MIRROR argument."""
        return " ".join(("deb", self.uri, self.suite, *self.components))


def parse_one_line(text: str, source: str = "sources.list") -> list[AptSource]:
    """The ``deb`` entries of a one-line-format file (``deb-src`` and comments skipped;
    ``[options]`` dropped)."""
    out: list[AptSource] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise FileFormatError(f"{source}:{n}: unterminated '[' options")
            rest = rest[end + 1:]
        words = rest.split()
        if kind == "deb-src":
            continue
        if kind != "deb" or len(words) < 2:
            raise FileFormatError(f"{source}:{n}: not a 'deb URI SUITE [COMPONENT...]' line")
        out.append(AptSource(words[0].rstrip("/"), words[1], tuple(words[2:])))
    return out


def _deb822_paragraphs(text: str) -> Iterable[dict[str, str]]:
    fields: dict[str, str] = {}
    key = ""
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, key = {}, ""
        elif raw[0] in " \t" and key:
            fields[key] += "\n" + raw.strip()
        else:
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()


def parse_deb822(text: str, source: str = "x.sources") -> list[AptSource]:
    """The ``deb`` entries of a deb822 ``.sources`` file (``Enabled: no`` stanzas skipped)."""
    out: list[AptSource] = []
    for f in _deb822_paragraphs(text):
        if f.get("enabled", "yes").lower() == "no" or "deb" not in f.get("types", "").split():
            continue
        if not f.get("uris") or not f.get("suites"):
            raise FileFormatError(f"{source}: a stanza lacks URIs or Suites")
        for uri in f["uris"].split():
            for suite in f["suites"].split():
                out.append(AptSource(uri.rstrip("/"), suite, tuple(f.get("components",
                                                                         "").split())))
    return out


def host_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every ``deb`` entry configured on this host."""
    files = [apt_dir / "sources.list"]
    d = apt_dir / "sources.list.d"
    if d.is_dir():
        files += sorted(p for p in d.iterdir() if p.suffix in (".list", ".sources"))
    out: list[AptSource] = []
    for p in files:
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except OSError as e:
            raise UsageError(f"cannot read apt sources {p}: {e.strerror}") from e
        parse = parse_deb822 if p.suffix == ".sources" else parse_one_line
        out += parse(text, str(p))
    return out


def _security_uri(uri: str) -> str | None:
    return uri + "-security" if uri.endswith("/debian") else None


def from_mirror(value: str, suites: Sequence[str],
                components: Sequence[str]) -> list[AptSource]:
    """The sources one mirror value gives (see the module docstring)."""
    text = value.strip()
    if text.startswith("deb "):
        return parse_one_line(text, "--mirror")
    if "://" not in text:
        raise UsageError(f"mirror {value!r}: want a URL (http://...) or a 'deb URI SUITE "
                         "COMPONENT...' line")
    uri = text.rstrip("/")
    out = []
    for suite in suites:
        if suite.endswith("-security"):
            sec = _security_uri(uri)
            if sec is None:
                log.warning("mirror %s: no known security archive for %s; skipping that suite",
                            uri, suite)
                continue
            out.append(AptSource(sec, suite, tuple(components)))
        else:
            out.append(AptSource(uri, suite, tuple(components)))
    return out


def select(found: Iterable[AptSource], suites: Sequence[str],
           components: Sequence[str]) -> list[AptSource]:
    """The entries serving the stack's suites, narrowed to its components, deduplicated."""
    out: list[AptSource] = []
    for s in found:
        comps = tuple(c for c in s.components if c in components)
        if s.suite in suites and comps:
            src = AptSource(s.uri, s.suite, comps)
            if src not in out:
                out.append(src)
    return out


def resolve(mirrors: Sequence[str], stack_mirrors: Sequence[str], suites: Sequence[str],
            components: Sequence[str], codename: str,
            host: Iterable[AptSource] | None = None) -> list[AptSource]:
    """The apt sources for a stack build (``host`` defaults to :func:`host_sources`)."""
    values = list(mirrors) or list(stack_mirrors)
    if values:
        where = "--mirror" if mirrors else "the stack's mirror"
        found = [s for v in values for s in from_mirror(v, suites, components)]
    else:
        where = f"the host's apt sources ({APT_DIR})"
        found = list(host) if host is not None else host_sources()
    chosen = select(found, suites, components)
    if not any(s.suite == codename for s in chosen):
        raise UsageError(f"no apt source for suite {codename!r} ({', '.join(components)}) in "
                         f"{where}; pass --mirror URL")
    missing = [s for s in suites if not any(c.suite == s for c in chosen)]
    if missing:
        log.warning("no apt source for suite(s) %s in %s", ", ".join(missing), where)
    return chosen

