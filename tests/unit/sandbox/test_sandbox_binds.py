"""Host-to-inside path translation and bind ordering (lifecycle.sandbox.binds): table tests."""

from __future__ import annotations

import pytest

from lifecycle.errors import UsageError
from lifecycle.sandbox.binds import (
    Bind,
    is_under,
    ordered,
    translate_argv,
    translate_env,
    translate_path,
    translate_value,
)

BINDS = [
    Bind("/tmp/b/app", "/workspace"),
    Bind("/tmp/b/layers", "/layers"),
    Bind("/tmp/b/layers/sub", "/elsewhere"),
    Bind("/tmp/b/buildpacks", "/cnb/buildpacks", readonly=True),
]


@pytest.mark.parametrize(("host", "inside"), [
    ("/tmp/b/app", "/workspace"),
    ("/tmp/b/app/", "/workspace"),
    ("/tmp/b/app/src/main.py", "/workspace/src/main.py"),
    ("/tmp/b/layers/bp/layer", "/layers/bp/layer"),
    # the longest host prefix wins
    ("/tmp/b/layers/sub/x", "/elsewhere/x"),
    ("/tmp/b/layers/sub", "/elsewhere"),
    # whole components only
    ("/tmp/b/app2/x", "/tmp/b/app2/x"),
    ("/tmp/b/layers-other", "/tmp/b/layers-other"),
    # unbound or relative: unchanged
    ("/usr/bin/python3", "/usr/bin/python3"),
    ("relative/path", "relative/path"),
    ("", ""),
])
def test_translate_path(host: str, inside: str) -> None:
    assert translate_path(host, BINDS) == inside


@pytest.mark.parametrize(("value", "want"), [
    ("/tmp/b/layers/bp/l/bin:/usr/bin:/bin", "/layers/bp/l/bin:/usr/bin:/bin"),
    ("/tmp/b/buildpacks/bp/1.0", "/cnb/buildpacks/bp/1.0"),
    ("http://proxy.example:3128", "http://proxy.example:3128"),
    ("a:/tmp/b/app::b", "a:/workspace::b"),
    ("plain value", "plain value"),
])
def test_translate_value_colon_lists(value: str, want: str) -> None:
    assert translate_value(value, BINDS) == want


def test_translate_env_and_argv() -> None:
    env = {"PATH": "/tmp/b/layers/x/bin:/bin", "CNB_BUILDPACK_DIR": "/tmp/b/buildpacks/id/1"}
    assert translate_env(env, BINDS) == {"PATH": "/layers/x/bin:/bin",
                                         "CNB_BUILDPACK_DIR": "/cnb/buildpacks/id/1"}
    argv = ("/tmp/b/buildpacks/id/1/bin/build", "/tmp/b/layers/id", "--flag=/tmp/b/app")
    assert translate_argv(argv, BINDS) == ("/cnb/buildpacks/id/1/bin/build", "/layers/id",
                                           "--flag=/tmp/b/app")


def test_ordered_puts_parents_first() -> None:
    binds = [Bind("/h/c", "/cnb/buildpacks"), Bind("/h/x", "/a/b/c"), Bind("/h/a", "/a"),
             Bind("/h/ab", "/a-b"), Bind("/h/cnb", "/cnb")]
    got = [b.inside for b in ordered(binds)]
    assert got.index("/a") < got.index("/a/b/c")
    assert got.index("/cnb") < got.index("/cnb/buildpacks")


def test_ordered_refuses_duplicate_inside_paths() -> None:
    with pytest.raises(UsageError, match="both claim /layers"):
        ordered([Bind("/h/1", "/layers"), Bind("/h/2", "/layers/")])


@pytest.mark.parametrize(("host", "inside", "match"), [
    ("relative", "/workspace", "must be absolute"),
    ("/h", "workspace", "must be absolute"),
    ("/h", "/", "reserved"),
    ("/h", "/proc", "reserved"),
    ("/h", "/dev/shm", "reserved"),
])
def test_bind_validation(host: str, inside: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        Bind(host, inside)


def test_bind_normalises_paths() -> None:
    b = Bind("/h//app/", "/workspace/./")
    assert (b.host, b.inside) == ("/h/app", "/workspace")


@pytest.mark.parametrize(("path", "prefix", "want"), [
    ("/a/b", "/a", True), ("/a", "/a", True), ("/ab", "/a", False), ("/x", "/", True),
])
def test_is_under(path: str, prefix: str, want: bool) -> None:
    assert is_under(path, prefix) is want
