"""Project metadata from a real ``git init`` repository, read without running git, compared
with what git itself reports; and the declared form from project.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lifecycle.platform.files import project_metadata as pm_file
from lifecycle.project import gitinfo
from lifecycle.project.descriptor import ProjectDescriptor
from lifecycle.project.prepare import project_metadata

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str, date: str = "2020-01-01T00:00:00Z") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("x\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "one")
    git(root, "tag", "v0.1")
    git(root, "commit", "-q", "--allow-empty", "-m", "two")
    git(root, "remote", "add", "upstream", "https://example.com/up.git")
    git(root, "remote", "add", "origin", "https://user:s3cret@example.com/org/app.git")
    return root


def test_no_repository_and_unborn_head(tmp_path: Path) -> None:
    assert gitinfo.read(tmp_path) is None
    assert project_metadata(tmp_path, ProjectDescriptor()).to_dict() == {}
    git(tmp_path, "init", "-q")
    assert gitinfo.read(tmp_path) is None          # no commit yet


def test_branch_commit_remote(repo: Path) -> None:
    info = gitinfo.read(repo)
    assert info is not None
    assert info.commit == git(repo, "rev-parse", "HEAD") and info.branch == "main"
    assert info.tags == () and info.describe == info.commit
    assert info.remote_url == "https://example.com/org/app.git"   # credentials removed
    meta = project_metadata(repo, ProjectDescriptor())
    assert meta.to_dict() == {"source": {
        "type": "git", "version": {"commit": info.commit, "describe": info.commit},
        "metadata": {"refs": ["main"], "url": "https://example.com/org/app.git"}}}


@pytest.mark.parametrize("packed", [False, True], ids=["loose", "packed"])
def test_tags_at_head(repo: Path, packed: bool) -> None:
    git(repo, "tag", "light")
    git(repo, "tag", "-a", "v1.0", "-m", "one", date="2021-01-01T00:00:00Z")
    git(repo, "tag", "-a", "v1.1", "-m", "two", date="2022-01-01T00:00:00Z")
    if packed:
        git(repo, "pack-refs", "--all")
    info = gitinfo.read(repo)
    assert info is not None
    assert info.tags == ("v1.1", "v1.0", "light")       # annotated newest first, then by name
    assert info.describe == git(repo, "describe", "--tags", "--always") == "v1.1"
    assert info.refs == ("main", "v1.1", "v1.0", "light")


def test_tag_objects_in_a_pack(repo: Path) -> None:
    """After gc the tag objects are packed: packed-refs' peeled lines still find the tags at
    HEAD (their times are unknown then, so annotated tags are ordered by name)."""
    git(repo, "tag", "-a", "v1.1", "-m", "two", date="2022-01-01T00:00:00Z")
    git(repo, "tag", "-a", "v1.0", "-m", "one", date="2021-01-01T00:00:00Z")
    git(repo, "tag", "-a", "old", "-m", "old", "HEAD~1")
    git(repo, "gc", "-q")
    assert not list((repo / ".git" / "refs" / "tags").iterdir())
    info = gitinfo.read(repo)
    assert info is not None and info.tags == ("v1.0", "v1.1")


def test_detached_head_and_worktree(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "pack-refs", "--all")
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt), first)
    info = gitinfo.read(wt)                             # .git is a "gitdir:" file here
    assert info is not None and info.commit == first and info.branch == ""
    assert info.tags == ("v0.1",) and info.refs == ("v0.1",)
    assert info.remote_url == "https://example.com/org/app.git"


def test_declared_version_wins_and_roundtrips(repo: Path, tmp_path: Path) -> None:
    meta = project_metadata(repo, ProjectDescriptor(version="1.2.3", source_url="https://s"))
    assert meta.to_dict() == {"source": {"type": "project", "version": {"declared": "1.2.3"},
                                         "metadata": {"url": "https://s"}}}
    pm_file.dump(tmp_path / "project-metadata.toml", meta)
    assert pm_file.load(tmp_path / "project-metadata.toml") == meta


def test_remote_config_parsing() -> None:
    text = ('[core]\n\tbare = false\n[remote "a b"]\n\turl = "https://x/a" ; c\n'
            '\turl = https://second\n[remote.old]\nurl=git@h:o/r.git\n')
    assert gitinfo.remote_urls(text) == {"a b": "https://x/a", "old": "git@h:o/r.git"}
    assert gitinfo.strip_credentials("ssh://git:pw@h/r") == "ssh://git@h/r"
    assert gitinfo.strip_credentials("https://tok@h/r") == "https://h/r"
    assert gitinfo.strip_credentials("git@h:o/r.git") == "git@h:o/r.git"
