"""stack.toml: schema validation errors name the file and the key; lookup by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from stack_fixtures import MINI, write_stack

from lifecycle.errors import FileFormatError, UsageError
from lifecycle.stack import definition

REPO = Path(__file__).resolve().parents[3]


def test_parses_the_default_and_mini_stacks() -> None:
    default = definition.load(definition.locate("default"))
    assert default.name == "default"
    assert default.id == "io.buildpacks.stacks.bookworm"
    assert default.build.name == "pypack/default-build"
    assert default.run.name == "pypack/default-run"
    assert {"python3", "python3-dev", "gcc", "nodejs", "npm", "git"} <= set(default.build.packages)
    assert {"python3", "nodejs", "ca-certificates", "tzdata"} <= set(default.run.packages)
    assert (default.build.user.uid, default.build.user.gid, default.run.user.name) == (
        1000, 1000, "cnb")
    assert "bookworm-security" in default.suites
    assert not default.mirrors, "a committed stack must not name a mirror"
    mini = definition.load(REPO / "tests/testdata/stack/mini/stack.toml")
    assert mini.build.recipe() == mini.run.recipe()


def test_defaults(tmp_path: Path) -> None:
    d = definition.load(write_stack(tmp_path))
    assert d.suites == ("bookworm",)
    assert d.components == ("main",)
    assert d.build.user == definition.User("cnb", 1000, 1000, "cnb")
    assert d.lock_path == tmp_path / "teststack" / "stack.lock"
    assert "mirror" not in d.identity()


@pytest.mark.parametrize(("edit", "where"), [
    (lambda t: t.replace('variant = "apt"', 'variant = "extract"'), "build.variant"),
    (lambda t: t.replace('image = "example/test-run"\n', ""), "run"),
    (lambda t: t + "\n[extra]\nx = 1\n", "extra"),
    (lambda t: t.replace('packages = ["python3", "gcc"]', 'packages = ["Py thon"]'),
     "build.packages[0]"),
    (lambda t: t.replace('id = "io.example.stacks.test"', 'id = "bad id!"'), "id"),
    (lambda t: t.replace('codename = "bookworm"', "codename = 12"), "distro.codename"),
])
def test_schema_errors_name_file_and_key(tmp_path: Path, edit: object, where: str) -> None:
    path = write_stack(tmp_path, edit(MINI))  # type: ignore[operator]
    with pytest.raises(FileFormatError) as info:
        definition.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert where in msg


def test_semantic_errors(tmp_path: Path) -> None:
    path = write_stack(tmp_path, MINI + '\n[apt]\nsuites = ["trixie"]\n')
    with pytest.raises(FileFormatError, match=r"apt\.suites"):
        definition.load(path)
    path = write_stack(tmp_path, MINI.replace("example/test-run", "example/test-build"), "b")
    with pytest.raises(FileFormatError, match=r"run\.image"):
        definition.load(path)
    text = MINI.replace('packages = ["python3"]\n',
                        'packages = ["python3"]\nhook-dirs = ["no-such-dir"]\n')
    with pytest.raises(FileFormatError, match=r"run\.hook-dirs"):
        definition.load(write_stack(tmp_path, text, "c"))


def test_relative_hook_dirs_resolve_against_the_stack_dir(tmp_path: Path) -> None:
    (tmp_path / "teststack" / "hooks").mkdir(parents=True)
    text = MINI.replace('packages = ["python3"]\n',
                        'packages = ["python3"]\nhook-dirs = ["hooks"]\n')
    d = definition.load(write_stack(tmp_path, text))
    assert d.run.hook_dirs == ((tmp_path / "teststack" / "hooks").resolve(),)


def test_user_override_per_image(tmp_path: Path) -> None:
    text = MINI + '\n[run.user]\nname = "app"\nuid = 1002\ngid = 1003\n'
    d = definition.load(write_stack(tmp_path, text))
    assert d.run.user == definition.User("app", 1002, 1003, "app")
    assert d.build.user == definition.User()


def test_locate(tmp_path: Path) -> None:
    f = write_stack(tmp_path)
    assert definition.locate(str(f)) == f
    assert definition.locate(str(f.parent)) == f
    assert definition.locate("default") == REPO / "stacks" / "default" / "stack.toml"
    with pytest.raises(UsageError, match="default"):
        definition.locate("no-such-stack")
