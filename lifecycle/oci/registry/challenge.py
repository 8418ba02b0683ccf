"""Parse ``WWW-Authenticate`` challenges (RFC 7235 §4.1) as registries send them.

Docker registry token auth spec ("token.md"): a 401 carries
``Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull,push"``,
plus ``error="insufficient_scope"`` when a token lacks actions; htpasswd registries send
``Basic realm="..."``. Quoted values may hold commas and backslash escapes. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|[^",\s=][^",\s]*)\s*')
"""A parameter; unquoted values are taken leniently up to a comma or space (some send URLs)."""
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?=\s|$|,)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: a scheme (lower case) and its parameters (names lower case)."""

    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """The value of parameter ``name`` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def realm(self) -> str | None:
        return self.get("realm")

    @property
    def service(self) -> str | None:
        return self.get("service")

    @property
    def scope(self) -> str | None:
        return self.get("scope")

    @property
    def error(self) -> str | None:
        return self.get("error")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The space-separated scopes of the ``scope`` parameter."""
        return tuple((self.scope or "").split())


def parse_challenges(header: str) -> list[Challenge]:
    """Parse every challenge in a ``WWW-Authenticate`` value; unparsable tails are ignored."""
    out: list[Challenge] = []
    pos = 0
    while pos < len(header):
        m = _SCHEME_RE.match(header, pos)
        if not m:
            break
        scheme = m.group(1).lower()
        params, pos = _parse_params(header, m.end())
        out.append(Challenge(scheme, tuple(params)))
    return out


def parse_challenge(header: str) -> Challenge | None:
    """The preferred challenge in ``header``: Bearer over Basic, else the first; None if empty."""
    challenges = parse_challenges(header)
    for wanted in ("bearer", "basic"):
        for ch in challenges:
            if ch.scheme == wanted:
                return ch
    return challenges[0] if challenges else None


def _parse_params(header: str, pos: int) -> tuple[list[tuple[str, str]], int]:
    params: list[tuple[str, str]] = []
    while pos < len(header):
        m = _PARAM_RE.match(header, pos)
        if not m:
            break
        params.append((m.group(1).lower(), _unquote(m.group(2))))
        pos = m.end()
        if pos < len(header) and header[pos] == ",":
            pos += 1
    while pos < len(header) and header[pos] in ", \t":
        pos += 1
    return params, pos


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
