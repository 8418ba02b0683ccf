"""``prepare_app``: the app copy honours include, exclude or nested ``.gitignore`` files (the
same answers as git), keeps modes, times and symlinks, skips special files and ``.git``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from lifecycle.errors import UsageError
from lifecycle.project.descriptor import ProjectDescriptor
from lifecycle.project.prepare import prepare_app


def listing(root: Path) -> set[str]:
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(dirpath) / name
            out.add(path.relative_to(root).as_posix() + ("/" if path.is_dir()
                                                           and not path.is_symlink() else ""))
    return out


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    files = {
        "app.py": "print('hi')\n", "requirements.txt": "flask\n", "README.md": "# r\n",
        "cmd/main.go": "package main\n", "cmd/util/x.go": "package util\n",
        "spec/a_test.py": "", "spec/fixtures/big.bin": "x" * 100,
        "node_modules/m/index.js": "", "docs/keep.md": "", "docs/notes.tmp": "",
        "docs/sub/deep.tmp": "", "docs/sub/ok.txt": "", ".env": "SECRET=1\n",
        ".git/HEAD": "ref: refs/heads/main\n", "lib/.git": "gitdir: ../x\n",
        "empty/.keep": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".gitignore").write_text("node_modules/\n*.tmp\n.env\n/build/\n")
    (root / "docs" / ".gitignore").write_text("!notes.tmp\nsub/ok.txt\n")
    return root


def test_gitignore_mode_matches_git(app: Path, tmp_path: Path) -> None:
    got = prepare_app(app, tmp_path / "out", None)            # no project.toml
    assert got.mode == "gitignore"
    copied = listing(tmp_path / "out")
    assert "docs/notes.tmp" in copied                 # re-included by docs/.gitignore
    assert "docs/sub/deep.tmp" not in copied and "docs/sub/ok.txt" not in copied
    assert not any(p.startswith(("node_modules", ".git/", ".env")) for p in copied)
    assert "lib/.git" not in copied and ".git/" not in copied
    assert {".gitignore", "docs/.gitignore", "app.py", "empty/.keep"} <= copied
    # every copied path is one git does not ignore, and every file git keeps is copied
    if shutil.which("git"):
        shutil.rmtree(app / ".git")
        (app / "lib" / ".git").unlink()
        subprocess.run(["git", "init", "-q", str(app)], check=True)
        proc = subprocess.run(["git", "-C", str(app), "ls-files", "--others",
                               "--exclude-standard"], capture_output=True, text=True,
                              check=True)
        kept = set(proc.stdout.split())
        assert {p for p in copied if not p.endswith("/")} == kept
    assert got.files == len([p for p in copied if not p.endswith("/")])
    assert "node_modules" in got.excluded and ".git" in got.excluded


def test_exclude_mode_ignores_gitignore(app: Path, tmp_path: Path) -> None:
    got = prepare_app(app, tmp_path / "out", ProjectDescriptor(exclude=("spec/", "*.md")))
    copied = listing(tmp_path / "out")
    assert got.mode == "exclude"
    assert not any(p.startswith("spec") or p.endswith(".md") for p in copied)
    assert {"node_modules/m/index.js", ".env", "docs/notes.tmp", "app.py"} <= copied
    assert ".git/" not in copied


def test_include_mode(app: Path, tmp_path: Path) -> None:
    desc = ProjectDescriptor(include=("cmd/", "*.txt", "/app.py", "!cmd/util/x.go"))
    got = prepare_app(app, tmp_path / "out", desc)
    assert got.mode == "include"
    assert listing(tmp_path / "out") == {
        "app.py", "requirements.txt", "cmd/", "cmd/main.go", "cmd/util/", "cmd/util/x.go",
        "docs/", "docs/sub/", "docs/sub/ok.txt"}   # only directories holding a match


def test_modes_times_symlinks_and_special_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    tool = src / "bin" / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o750)
    os.utime(tool, ns=(1_000_000_000_000_000_000, 1_500_000_000_123_456_789))
    (src / "ro").mkdir()
    (src / "ro" / "f").write_text("x")
    (src / "link-in").symlink_to("bin/tool")
    (src / "link-out").symlink_to("/etc/passwd")
    (src / "dangling").symlink_to("nowhere")
    (src / "dirlink").symlink_to("bin")
    os.mkfifo(src / "fifo")
    os.utime(src / "ro", ns=(1_000_000_000_000_000_000, 1_400_000_000_000_000_000))
    (src / "ro").chmod(0o555)
    try:
        got = prepare_app(src, tmp_path / "out", ProjectDescriptor())
    finally:
        (src / "ro").chmod(0o755)
    out = tmp_path / "out"
    assert stat.S_IMODE((out / "bin" / "tool").stat().st_mode) == 0o750
    assert (out / "bin" / "tool").stat().st_mtime_ns == 1_500_000_000_123_456_789
    assert stat.S_IMODE((out / "ro").stat().st_mode) == 0o555
    assert (out / "ro").stat().st_mtime_ns == 1_400_000_000_000_000_000
    assert os.readlink(out / "link-in") == "bin/tool"
    assert os.readlink(out / "link-out") == "/etc/passwd"          # kept as a link, not followed
    assert os.readlink(out / "dangling") == "nowhere"
    assert (out / "dirlink").is_symlink() and os.readlink(out / "dirlink") == "bin"
    assert not (out / "fifo").exists() and got.skipped == ("fifo",)
    assert (got.files, got.symlinks, got.dirs, got.bytes) == (2, 4, 2, len("#!/bin/sh\n") + 1)
    (out / "ro").chmod(0o755)


def test_dest_must_be_fresh(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("")
    with pytest.raises(UsageError, match="new or empty directory"):
        prepare_app(app, out, ProjectDescriptor())
    with pytest.raises(UsageError, match="app directory not found"):
        prepare_app(tmp_path / "missing", tmp_path / "o2", ProjectDescriptor())
