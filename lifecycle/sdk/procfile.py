"""Procfiles (the Heroku format): ``<type>: <command line>`` per line.

Not part of the CNB spec; a convention buildpacks share. Blank lines and ``#`` comments are
skipped. Each command line runs through ``bash -c`` (processes are direct since Buildpack API
0.9, and Procfile lines expect a shell: ``$PORT``, ``&&``); bash replaces itself with a single
simple command, so the app still receives signals. The default process is ``web`` if present,
else the first one.
"""

from __future__ import annotations

import re
from pathlib import Path

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.launch import shell

_LINE = re.compile(r"^([A-Za-z0-9._-]+)[ \t]*:[ \t]*(.*?)[ \t]*$")


def parse(text: str, source: str = "Procfile") -> dict[str, str]:
    """Process type -> command line, in file order. SdkError names the bad line."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m or not m.group(2):
            raise SdkError(f"{source}:{n}: expected '<type>: <command>', got {raw!r}")
        if m.group(1) in out:
            raise SdkError(f"{source}:{n}: process type {m.group(1)!r} defined twice")
        out[m.group(1)] = m.group(2)
    return out


def load(path: Path) -> dict[str, str]:
    """Parse a Procfile; a missing file gives ``{}``."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise SdkError(f"{path}: cannot read: {e.strerror}") from e
    return parse(text, str(path))


def default_type(processes: dict[str, str]) -> str | None:
    """``web`` if present, else the first type, else None."""
    if "web" in processes:
        return "web"
    return next(iter(processes), None)


def command(line: str) -> tuple[str, ...]:
    """The direct command running a Procfile line: ``("bash", "-c", line)``."""
    return shell(line)
