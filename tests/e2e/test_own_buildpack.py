"""docs/write-your-own-buildpack.md, run as written (issue #7: "a test runs the commands it
shows"): scaffold with ``pypack buildpack new``, build and run, edit ``bin/build`` on the SDK,
package (``.cnb`` and the local store), build with the package, make a builder with it.

How the page is read: every fenced ``sh`` block is one step, run with ``bash -euo pipefail``
in one empty working directory, in the page's order. A fenced ``text`` block right after an
``sh`` block (only blank lines between) lists lines the step must print (stdout and stderr,
merged), in that order, each matching a whole output line after stripping surrounding
blanks; ``...`` in an expected line stands for any text.

What the test changes, and only this:
- ``--builder default`` becomes ``--builder test/own-bp-builder``: a builder with no
  buildpacks on a ~35 MB build/run image made from the host's Python (``pyrootfs_rig``), since
  building the default stack takes minutes. Every ``pypack build`` on the page must name its
  builder, so none falls back to the real default builder.
- pypack runs in a private ``PYPACK_HOME`` where that small image is also stored under the
  default stack's names, ``pypack/default-build`` and ``pypack/default-run``: the page's
  ``builder.toml`` names them, and in real use the first ``--builder default`` build made them.
- ``pypack`` and ``python3`` on ``PATH`` are this checkout's CLI and this interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyrootfs_rig import import_stack, python_rootfs

from lifecycle import client

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "write-your-own-buildpack.md"
TEST_BUILDER = "test/own-bp-builder"
WILDCARD = "..."


@dataclass(frozen=True, slots=True)
class Step:
    """One ``sh`` block: its script, the lines it must print, and where it is on the page."""

    script: str
    expect: tuple[str, ...]
    line: int


def _fences(text: str) -> list[tuple[str, str, int, int]]:
    """Every fenced block as (language, body, first line, last line), lines 1-based."""
    lines = text.splitlines()
    out: list[tuple[str, str, int, int]] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang, start = lines[i][3:].strip(), i
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            out.append((lang, "\n".join(lines[start + 1:i]) + "\n", start + 1, i + 1))
        i += 1
    return out


def doc_steps(text: str) -> list[Step]:
    """The page's ``sh`` blocks with the ``text`` block that follows each (if any)."""
    lines = text.splitlines()
    fences = _fences(text)
    steps = []
    for n, (lang, body, first, last) in enumerate(fences):
        if lang != "sh":
            continue
        expect: tuple[str, ...] = ()
        if n + 1 < len(fences):
            nlang, nbody, nfirst, _ = fences[n + 1]
            between = lines[last:nfirst - 1]
            if nlang == "text" and not any(x.strip() for x in between):
                expect = tuple(x.strip() for x in nbody.splitlines() if x.strip())
        steps.append(Step(body, expect, first))
    return steps


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in expected.split(WILDCARD)))


def missing_lines(expect: tuple[str, ...], output: str) -> list[str]:
    """The expected lines not found, in order, as whole (stripped) lines of ``output``."""
    got = [x.strip() for x in output.splitlines()]
    pos = 0
    for i, want in enumerate(expect):
        pat = _pattern(want)
        while pos < len(got) and not pat.fullmatch(got[pos]):
            pos += 1
        if pos == len(got):
            return list(expect[i:])
        pos += 1
    return []


def for_test(script: str) -> str:
    """The script with ``--builder default`` replaced by the test builder."""
    return script.replace("--builder default", f"--builder {TEST_BUILDER}")


def test_doc_parsing() -> None:
    page = ("intro\n```sh\necho a\necho b\n```\n\n```text\na\n... b\n```\n"
            "```sh\necho c\n```\nprose\n```text\nnot expected\n```\n```toml\nx = 1\n```\n")
    steps = doc_steps(page)
    assert steps == [Step("echo a\necho b\n", ("a", "... b"), 2), Step("echo c\n", (), 11)]
    assert missing_lines(("a", "... b"), "x\na\n  the b \n") == []
    assert missing_lines(("... b", "a"), "a\nthe b\n") == ["a"]
    assert missing_lines(("Hello",), "Hello, world\n") == ["Hello"]


def test_doc_names_its_builders() -> None:
    """The rewrite only works if the page says ``--builder default`` where it means it."""
    steps = doc_steps(DOC.read_text())
    assert steps, f"{DOC}: no sh blocks"
    assert any("--builder default" in s.script for s in steps)
    for s in steps:
        joined = s.script.replace("\\\n", " ")
        for cmd in re.findall(r"^\s*pypack build .*$", joined, re.MULTILINE):
            assert "--builder " in cmd, f"{DOC}:{s.line}: {cmd!r} does not name its builder"


@pytest.fixture(scope="module")
def doc_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private pypack home with the small stack and builder, and the PATH the page needs."""
    home = tmp_path_factory.mktemp("ownbp-home")
    import_stack(python_rootfs(tmp_path_factory.mktemp("ownbp-rootfs")),
                 ("pypack/default-build", "pypack/default-run"),
                 client.Context(store_root=str(home)))
    shims = tmp_path_factory.mktemp("ownbp-bin")
    (shims / "pypack").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m lifecycle.cli.main "$@"\n')
    (shims / "pypack").chmod(0o755)
    (shims / "python3").symlink_to(sys.executable)
    env = dict(os.environ, PYPACK_HOME=str(home), PATH=f"{shims}:{os.environ['PATH']}",
               PYTHONPATH=os.pathsep.join(filter(None, (str(REPO),
                                                        os.environ.get("PYTHONPATH")))))
    config = tmp_path_factory.mktemp("ownbp-builder") / "builder.toml"
    config.write_text('[build]\nimage = "pypack/default-build"\n\n'
                      '[[run.images]]\nimage = "pypack/default-run"\n')
    res = subprocess.run(["pypack", "builder", "create", TEST_BUILDER, "--config", str(config)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return env


@pytest.mark.e2e
def test_walkthrough_runs_as_written(doc_env: dict[str, str], tmp_path: Path) -> None:
    steps = doc_steps(DOC.read_text())
    assert any("pypack run" in s.script and s.expect for s in steps)
    for step in steps:
        res = subprocess.run(["bash", "-euo", "pipefail", "-c", for_test(step.script)],
                             cwd=tmp_path, env=doc_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=600)
        where = f"{DOC.name}:{step.line}"
        assert res.returncode == 0, f"{where}: exit {res.returncode}\n{res.stdout}"
        missing = missing_lines(step.expect, res.stdout)
        assert not missing, f"{where}: did not print {missing}\n{res.stdout}"
