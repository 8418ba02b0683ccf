"""gitignore semantics of ``lifecycle.project.ignore``: table tests, then the same answers as
``git check-ignore`` on real trees (fixed cases and a seeded random sweep)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from lifecycle.project.ignore import Rules, parse_line

# (patterns, path, is_dir, ignored)
TABLE: list[tuple[list[str], str, bool, bool]] = [
    (["*.log"], "a.log", False, True),
    (["*.log"], "deep/er/a.log", False, True),
    (["*.log"], "a.log.txt", False, False),
    (["*.log", "!keep.log"], "keep.log", False, False),
    (["*.log", "!keep.log"], "x/keep.log", False, False),
    (["!keep.log", "*.log"], "keep.log", False, True),          # last match wins
    (["build/"], "build", True, True),
    (["build/"], "build", False, False),                         # dir-only
    (["build/"], "src/build/x.o", False, True),                  # under an ignored dir
    (["/build"], "src/build", True, False),                      # anchored
    (["/build"], "build", False, True),
    (["doc/frotz"], "doc/frotz", True, True),
    (["doc/frotz"], "a/doc/frotz", True, False),                 # middle slash anchors
    (["doc/*.txt"], "doc/a.txt", False, True),
    (["doc/*.txt"], "doc/sub/a.txt", False, False),              # * does not cross /
    (["**/foo"], "foo", False, True),
    (["**/foo"], "a/b/foo", False, True),
    (["**/foo/bar"], "x/foo/bar", False, True),
    (["abc/**"], "abc/x/y", False, True),
    (["abc/**"], "abc", True, False),
    (["a/**/b"], "a/b", False, True),
    (["a/**/b"], "a/x/y/b", False, True),
    (["a**/b"], "ab", False, True),                              # git: "a" then "**/b"
    (["a**b"], "a/x/b", False, False),                           # plain * inside a word
    (["?.txt"], "a.txt", False, True),
    (["?.txt"], "ab.txt", False, False),
    (["[ab].c"], "b.c", False, True),
    (["[!ab].c"], "b.c", False, False),
    (["[^ab].c"], "c.c", False, True),
    (["[a-c]x"], "bx", False, True),
    (["[[:digit:]]*"], "9lives", False, True),
    (["[[:nope:]]"], "n", False, False),                         # unknown class: no match
    (["[abc"], "[abc", False, False),                            # unterminated: no match
    (["\\#notes"], "#notes", False, True),
    (["#notes"], "#notes", False, False),                        # a comment
    (["\\!bang"], "!bang", False, True),
    (["trail   "], "trail", False, True),                        # trailing spaces trimmed
    (["sp\\ "], "sp ", False, True),                             # escaped space kept
    (["x\\*y"], "x*y", False, True),
    (["x\\*y"], "xay", False, False),
    (["*", "!*/", "!*.py"], "src/a.py", False, False),
    (["*", "!*.py"], "src/a.py", False, True),                   # no re-include under src/
    (["data/", "!data/keep"], "data/keep", False, True),
    ([], ".git", True, True),                                    # .git always
    ([], "sub/.git/config", False, True),
]


@pytest.mark.parametrize(("patterns", "path", "is_dir", "want"), TABLE,
                         ids=[f"{'|'.join(t[0])}~{t[1]}" for t in TABLE])
def test_table(patterns: list[str], path: str, is_dir: bool, want: bool) -> None:
    assert Rules.from_globs(patterns).ignored(path, is_dir) is want


def test_nested_files_are_relative_and_override() -> None:
    rules = Rules.from_files({"": "*.tmp\n/top\n", "sub": "!keep.tmp\n/top\nx/\n"})
    assert rules.ignored("a.tmp", False)
    assert rules.ignored("sub/a.tmp", False)
    assert not rules.ignored("sub/keep.tmp", False)       # deeper file wins
    assert rules.ignored("keep.tmp", False)               # but only below sub/
    assert rules.ignored("top", False) and rules.ignored("sub/top", False)
    assert not rules.ignored("sub/deeper/top", False)      # /top anchored to each file's dir
    assert rules.ignored("sub/q/x", True) and not rules.ignored("x", True)
    assert not rules.ignored("sub", True)                  # a file does not apply to its dir


def test_parse_line_skips_blanks_and_comments() -> None:
    assert parse_line("") is None and parse_line("# c") is None and parse_line("   ") is None
    pat = parse_line("!/a/b/\r", "base")
    assert pat is not None and pat.negated and pat.dir_only and pat.anchored
    assert pat.base == "base" and pat.matches("base/a/b", True)


# --- against git ---------------------------------------------------------------------------

def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    proc = subprocess.run(["git", "-C", str(root), "check-ignore", "--no-index", "--stdin", "-z"],
                          input="\0".join(paths) + "\0", capture_output=True, text=True,
                          check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return {p for p in proc.stdout.split("\0") if p}


def _make_tree(root: Path, tree: dict[str, bool]) -> None:
    for rel, is_dir in sorted(tree.items()):
        path = root / rel
        if is_dir:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIXED_TREE = {
    "a.log": False, "keep.log": False, "build": True, "build/out.o": False, "src": True,
    "src/build": True, "src/build/x.o": False, "src/main.py": False, "src/t.py": False,
    "doc": True, "doc/a.txt": False, "doc/sub": True, "doc/sub/b.txt": False,
    "doc/#n": False, "x y": False, "x[1]": False, "deep": True, "deep/a": True,
    "deep/a/b": True, "deep/a/b/foo": False, "deep/keep.tmp": False, "deep/z.tmp": False,
    "!bang": False, "n9": False,
}
FIXED_FILES = {
    "": "*.log\n!keep.log\n/build/\ndoc/*.txt\n\\#n\n**/foo\nx\\ y\nx[[]1]\n\\!bang\n"
        "[[:alpha:]][[:digit:]]\n*.tmp\n",
    "deep": "!keep.tmp\n/a/b/\n",
    "src": "t.py\n[^m]*.py\n",
}


@needs_git
def test_fixed_tree_matches_git(tmp_path: Path) -> None:
    _make_tree(tmp_path, FIXED_TREE)
    for base, text in FIXED_FILES.items():
        (tmp_path / base / ".gitignore").write_text(text)
    rules = Rules.from_files(FIXED_FILES)
    ours = {p for p, d in FIXED_TREE.items() if rules.ignored(p, d)}
    assert ours == _git_ignored(tmp_path, sorted(FIXED_TREE))
    assert "src/build/x.o" not in ours and "deep/keep.tmp" not in ours   # sanity


NAMES = ["a", "b", "ab", "a.txt", "b.py", "c d", "x[1]", "#h", "!n", "foo"]
ATOMS = ["*", "**", "?", "a", "b", "/", ".txt", "[ab]", "[!a]", "[a-c]", "[[:alpha:]]", "\\",
         "!", "#", " ", "foo", "\\[", "[]", "]", "a/", "/a", "**/", "/**", "/**/", "*/", "[^b]",
         "\\ ", "[[:digit:]]"]


def _random_case(rnd: random.Random) -> tuple[dict[str, bool], dict[str, str]]:
    tree: dict[str, bool] = {}

    def grow(rel: str, depth: int) -> None:
        for _ in range(rnd.randint(1, 3)):
            path = f"{rel}/{rnd.choice(NAMES)}" if rel else rnd.choice(NAMES)
            if path in tree:
                continue
            tree[path] = depth < 3 and rnd.random() < 0.5
            if tree[path]:
                grow(path, depth + 1)

    grow("", 0)
    dirs = [""] + [p for p, d in tree.items() if d]
    files = {}
    for base in rnd.sample(dirs, min(len(dirs), rnd.randint(1, 3))):
        lines = [("!" if rnd.random() < 0.3 else "")
                 + "".join(rnd.choice(ATOMS) for _ in range(rnd.randint(1, 3)))
                 for _ in range(rnd.randint(1, 6))]
        files[base] = "\n".join(lines) + "\n"
    return tree, files


@needs_git
def test_random_patterns_match_git(tmp_path: Path) -> None:
    """80 random trees with random .gitignore files, each in its own directory of one repository
    (its files then sit one level down, which exercises nested-file bases)."""
    rnd = random.Random(20240611)
    tree: dict[str, bool] = {}
    files: dict[str, str] = {}
    for round_ in range(80):
        sub_tree, sub_files = _random_case(rnd)
        tree[f"r{round_}"] = True
        tree.update({f"r{round_}/{p}": d for p, d in sub_tree.items()})
        files.update({f"r{round_}/{b}".rstrip("/"): t for b, t in sub_files.items()})
    _make_tree(tmp_path, tree)
    for base, text in files.items():
        (tmp_path / base / ".gitignore").write_text(text)
    rules = Rules.from_files(files)
    ours = {p for p, d in tree.items() if rules.ignored(p, d)}
    theirs = _git_ignored(tmp_path, sorted(tree))
    assert len(theirs) > 50                      # the sweep does exercise matches
    assert ours == theirs, sorted(ours ^ theirs)[:10]
