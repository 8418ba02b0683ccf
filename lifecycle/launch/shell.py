"""The bash program for shell (non-direct) launches (`platform.md` "launcher", Execution). Pure.

One bash process, started in ``<app>``, sources every ``profile.d`` file, then every
``profile.d/<type>`` file, then ``<app>/.profile`` if present (the caller passes that list in
order), changes to the working directory and replaces itself with the command:

- a single token is a script: ``exec bash -c "<token>"`` (bash execs a simple command in place);
- several tokens are each expanded by the shell (``$VAR``, ``$(...)``, quotes removed as in a
  double-quoted word) after the profiles ran, and the result is exec'd as one argv.

The outer bash gets ``$0`` = how the launcher was called, so profile scripts see it.
"""

from __future__ import annotations

from collections.abc import Sequence

BASH = "/bin/bash"
"""The shell the spec names for Linux shell launches."""

APP_PROFILE = ".profile"
"""The app's own profile script, relative to ``<app>``."""

_RUN_SCRIPT = 'exec bash -c "$1"'
_RUN_TOKENS = """\
__cnb_argv=()
for __cnb_tok in "$@"; do
  eval "__cnb_argv+=(\\"${__cnb_tok}\\")" || exit 1
done
exec "${__cnb_argv[@]}"
"""


def quote(word: str) -> str:
    """``word`` as one single-quoted bash word."""
    return "'" + word.replace("'", "'\\''") + "'"


def script(profiles: Sequence[str], working_dir: str, n_tokens: int) -> str:
    """The bash source run with ``$1..$n`` = the command tokens."""
    lines = [f"source {quote(p)}" for p in profiles]
    lines.append(f"cd -- {quote(working_dir)} || exit 1")
    lines.append(_RUN_SCRIPT if n_tokens == 1 else _RUN_TOKENS)
    return "\n".join(lines) + "\n"


def bash_argv(profiles: Sequence[str], working_dir: str, tokens: Sequence[str],
              caller: str) -> tuple[str, ...]:
    """The argv to ``execve`` ``/bin/bash`` with, for command ``tokens`` (at least one)."""
    return ("bash", "-c", script(profiles, working_dir, len(tokens)), caller, *tokens)
