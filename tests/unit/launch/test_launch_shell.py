"""The bash program for shell launches (lifecycle.launch.shell), run with a real bash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lifecycle.launch.shell import BASH, bash_argv, quote, script


def run_bash(argv: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), executable=BASH, cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "V": "value"}, timeout=60)


@pytest.mark.parametrize("word", ["plain", "a b", "it's", "$HOME", "'", "", "a\nb", '"q"'])
def test_quote_round_trips(word: str) -> None:
    out = subprocess.run([BASH, "-c", f"printf %s {quote(word)}"], capture_output=True,
                         text=True, check=True).stdout
    assert out == word


def test_script_sources_profiles_in_order_then_cds(tmp_path: Path) -> None:
    odd = tmp_path / "it's a dir"
    odd.mkdir()
    (odd / "p1").write_text('ORDER="${ORDER}1"\n')
    (odd / "p2").write_text('export ORDER="${ORDER}2"\n')
    work = tmp_path / "work dir"
    work.mkdir()
    argv = bash_argv([str(odd / "p1"), str(odd / "p2")], str(work),
                     ['echo "$ORDER $PWD $0"'], "/cnb/process/web")
    res = run_bash(argv, tmp_path)
    assert res.stdout == f"12 {work} bash\n", res.stderr


def test_profiles_see_the_caller_as_dollar_zero(tmp_path: Path) -> None:
    (tmp_path / "p").write_text('export CALLER="$0"\n')
    argv = bash_argv([str(tmp_path / "p")], str(tmp_path), ['echo "$CALLER"'], "/cnb/x")
    assert run_bash(argv, tmp_path).stdout == "/cnb/x\n"


def test_tokens_are_expanded_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "p").write_text("LOCAL=unexported\n")
    argv = bash_argv([str(tmp_path / "p")], str(tmp_path),
                     ["printf", "<%s>", "$V", "a b", "$LOCAL", "-n", "$(echo x y)"], "c")
    assert run_bash(argv, tmp_path).stdout == "<value><a b><unexported><-n><x y>"


def test_a_missing_working_dir_fails_the_launch(tmp_path: Path) -> None:
    argv = bash_argv([], str(tmp_path / "missing"), ["echo should-not-run"], "c")
    res = run_bash(argv, tmp_path)
    assert res.returncode == 1 and "should-not-run" not in res.stdout


def test_script_modes() -> None:
    assert script([], "/w", 1).endswith('exec bash -c "$1"\n')
    assert 'exec "${__cnb_argv[@]}"' in script([], "/w", 2)
    assert script(["/a b/p"], "/w", 1).startswith("source '/a b/p'\ncd -- '/w' || exit 1\n")
