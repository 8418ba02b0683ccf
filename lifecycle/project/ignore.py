"""gitignore pattern semantics: a pure matcher for ``.gitignore`` files and project.toml globs.

The project descriptor (buildpacks/spec ``extensions/project-descriptor.md``,
``io.buildpacks.include``/``exclude``) says "the .gitignore pattern is used"; pypack also
honours the app's own ``.gitignore`` files when no include/exclude is given. This module follows
git's ``gitignore(5)`` and ``wildmatch`` exactly, as checked against ``git check-ignore``:

- blank lines and ``#`` comments are skipped; ``\\#`` and ``\\!`` start a literal ``#``/``!``;
  unescaped trailing spaces are dropped, a trailing CR too;
- ``!`` negates; a trailing ``/`` matches directories only; a pattern with a ``/`` at the start
  or in the middle is anchored to the directory of its file, else it matches a base name at any
  depth;
- ``*`` and ``?`` never match ``/``; ``[...]`` (``!``/``^`` negation, ranges, ``[:alpha:]``
  classes) never matches ``/``; ``**/``, ``/**/`` and ``/**`` span directories, other ``**``
  are a plain ``*``; an unterminated ``[`` or a trailing ``\\`` never matches; as in git, an
  anchored pattern's literal prefix is compared first, so ``a**/b`` acts as ``a`` + ``**/b``;
- the last matching pattern wins; files deeper in the tree override shallower ones;
- a path under an excluded directory stays excluded (no re-inclusion), and ``.git`` is always
  excluded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_NEVER = re.compile(r"(?!)")

_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "\\x21-\\x7e", "lower": "a-z", "print": "\\x20-\\x7e",
    "punct": "".join(re.escape(c) for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": " \\t\\n\\r\\x0b\\x0c", "upper": "A-Z", "xdigit": "0-9a-fA-F",
}


class _Abort(Exception):
    """The pattern can never match (git's WM_ABORT_ALL)."""


def _class_char(ch: str) -> str:
    return re.escape(ch)


def _bracket(p: str, i: int) -> tuple[str, int]:
    """Translate the bracket expression starting after ``[`` at ``p[i]``; return (regex, end)."""
    negated = False
    if i < len(p) and p[i] in "!^":
        negated, i = True, i + 1
    parts: list[str] = []
    prev: str | None = None
    first = True
    while True:
        if i >= len(p):
            raise _Abort
        ch = p[i]
        if ch == "]" and not first:
            break
        first = False
        if ch == "\\":
            i += 1
            if i >= len(p):
                raise _Abort
            parts.append(_class_char(p[i]))
            prev = p[i]
        elif ch == "-" and prev is not None and i + 1 < len(p) and p[i + 1] != "]":
            i += 1
            hi = p[i]
            if hi == "\\":
                i += 1
                if i >= len(p):
                    raise _Abort
                hi = p[i]
            if prev <= hi:  # the low end already matched as a literal, as in wildmatch
                parts.append(f"{_class_char(prev)}-{_class_char(hi)}")
            prev = None
        elif ch == "[" and i + 1 < len(p) and p[i + 1] == ":":
            end = p.find("]", i + 2)
            if end < 0:
                raise _Abort
            if end - 1 <= i + 1 or p[end - 1] != ":":
                parts.append(_class_char("["))  # no ":]": a literal "["
                prev = "["
            else:
                name = p[i + 2:end - 1]
                if name not in _CLASSES:
                    raise _Abort
                parts.append(_CLASSES[name])
                prev, i = None, end
        else:
            parts.append(_class_char(ch))
            prev = ch
        i += 1
    body = "".join(parts)
    if negated:
        return f"[^/{body}]", i + 1
    return (f"(?:(?!/)[{body}])" if body else "(?!)"), i + 1


def _translate(p: str) -> str:
    """Translate a wildmatch pattern (WM_PATHNAME) to a regular expression body."""
    out: list[str] = []
    i, n = 0, len(p)
    while i < n:
        ch = p[i]
        if ch == "*":
            j = i
            while j < n and p[j] == "*":
                j += 1
            double = j - i >= 2 and (i == 0 or p[i - 1] == "/") and (j == n or p[j] == "/")
            if not double:
                out.append("[^/]*")
            elif j == n:
                out.append(".*")
            else:  # "**/": zero or more directories
                out.append("(?:.*/)?")
                j += 1
            i = j
            continue
        if ch == "?":
            out.append("[^/]")
        elif ch == "[":
            rx, i = _bracket(p, i + 1)
            out.append(rx)
            continue
        elif ch == "\\":
            i += 1
            if i >= n:
                raise _Abort
            out.append(re.escape(p[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _anchored(p: str) -> str:
    """Translate an anchored pattern as git does: the literal prefix (up to the first ``*?[\\``)
    is compared first and wildmatch sees only the rest, so ``a**/b`` acts as ``a`` + ``**/b``."""
    k = 0
    while k < len(p) and p[k] not in "*?[\\":
        k += 1
    return re.escape(p[:k]) + _translate(p[k:])


def _trim_trailing_spaces(line: str) -> str:
    """Drop trailing spaces unless escaped with a backslash (git ``trim_trailing_spaces``)."""
    last_space: int | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == " ":
            if last_space is None:
                last_space = i
        else:
            last_space = None
            if ch == "\\":
                i += 1
        i += 1
    return line if last_space is None else line[:last_space]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One gitignore pattern. ``base`` is the directory of its file (``""`` for the root)."""

    text: str
    base: str
    negated: bool
    dir_only: bool
    anchored: bool
    regex: re.Pattern[str]

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether this pattern matches ``path`` (``/``-separated, relative to the root).

        Only paths strictly under ``base`` can match."""
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1:]
        if not self.anchored:
            path = path.rsplit("/", 1)[-1]
        return self.regex.fullmatch(path) is not None


def parse_line(line: str, base: str = "") -> Pattern | None:
    """Parse one line of a gitignore file in directory ``base``; ``None`` for blanks/comments."""
    if line.endswith("\r"):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    body = _trim_trailing_spaces(line)
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    dir_only = body.endswith("/")
    if dir_only:
        body = body[:-1]
    if not body:
        return None
    anchored = "/" in body
    if body.startswith("/"):
        body = body[1:]
    try:
        regex = re.compile(_anchored(body) if anchored else _translate(body), re.DOTALL)
    except _Abort:
        regex = _NEVER
    return Pattern(text=line, base=base.strip("/"), negated=negated, dir_only=dir_only,
                   anchored=anchored, regex=regex)


def parse_lines(lines: Iterable[str], base: str = "") -> tuple[Pattern, ...]:
    """Parse the lines of one gitignore file (or a project.toml glob list) in ``base``."""
    return tuple(p for p in (parse_line(line, base) for line in lines) if p is not None)


def parse_text(text: str, base: str = "") -> tuple[Pattern, ...]:
    """Parse the contents of a ``.gitignore`` file in directory ``base``."""
    return parse_lines(text.split("\n"), base)


def is_git_dir(name: str) -> bool:
    """``.git`` (a repository directory, or a gitlink file) is never copied or matched."""
    return name == ".git"


@dataclass(frozen=True, slots=True)
class Rules:
    """Pattern lists from the root down; later (deeper) lists take precedence."""

    lists: tuple[tuple[Pattern, ...], ...] = ()

    @classmethod
    def from_globs(cls, globs: Iterable[str]) -> Rules:
        """Rules from a root-level list of patterns (project.toml include/exclude)."""
        return cls((parse_lines(globs),))

    @classmethod
    def from_files(cls, files: Mapping[str, str]) -> Rules:
        """Rules from ``.gitignore`` contents keyed by their directory (``""`` is the root)."""
        bases = sorted(files, key=lambda b: (b.strip("/").count("/") if b.strip("/") else -1, b))
        return cls(tuple(parse_text(files[b], b) for b in bases))

    def with_patterns(self, patterns: tuple[Pattern, ...]) -> Rules:
        """These rules plus one deeper file's patterns."""
        return Rules((*self.lists, patterns)) if patterns else self

    def last_match(self, path: str, is_dir: bool) -> Pattern | None:
        """The deciding pattern for ``path`` itself (parents not considered), if any."""
        for patterns in reversed(self.lists):
            for pat in reversed(patterns):
                if pat.matches(path, is_dir):
                    return pat
        return None

    def match(self, path: str, is_dir: bool) -> bool:
        """``path`` itself is matched (excluded in gitignore terms); parents not considered."""
        if is_git_dir(path.rsplit("/", 1)[-1]):
            return True
        pat = self.last_match(path, is_dir)
        return pat is not None and not pat.negated

    def ignored(self, path: str, is_dir: bool) -> bool:
        """What ``git check-ignore`` answers: ``path`` or one of its parent directories matches."""
        parts = path.strip("/").split("/")
        for k in range(1, len(parts)):
            if self.match("/".join(parts[:k]), True):
                return True
        return self.match("/".join(parts), is_dir)
