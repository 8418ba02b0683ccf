"""In-house stack definitions: base, packages, files, users and env per image; the schema and
semantic checks; existing stacks stay valid; the lock records the base and added packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from inhouse_fixtures import INHOUSE, REPO, write_inhouse
from stack_fixtures import MINI, write_stack

from lifecycle.errors import FileFormatError
from lifecycle.stack import definition
from lifecycle.stack import lock as stacklock
from lifecycle.stack.additions import UserSpec


def test_every_committed_stack_parses() -> None:
    for path in (definition.locate("default"), definition.locate("inhouse-example"),
                 REPO / "tests/testdata/stack/mini/stack.toml",
                 REPO / "tests/testdata/stack/inhouse-mini/stack.toml"):
        d = definition.load(path)
        assert not d.mirrors, path
    ex = definition.load(definition.locate("inhouse-example"))
    assert (ex.build.base, ex.run.base) == ("pypack/default-build", "pypack/default-run")
    assert ex.distro is None and ex.run.variant is None
    assert "jq" in ex.run.packages
    assert ex.run.files[0].dest == "usr/local/share/ca-certificates/example-corp-ca.crt"
    assert ex.run.files[0].src == REPO / "stacks/inhouse-example/example-corp-ca.pem"
    assert ex.run.users[0].name == "ops" and ex.run.env


def test_parse_inhouse(tmp_path: Path) -> None:
    d = definition.load(write_inhouse(tmp_path))
    b, r = d.build, d.run
    assert b.base == "example/base-build" and b.variant is None
    assert b.env == {"CORP": "1"}
    assert b.files[0].src == tmp_path / "inhouse" / "corp-ca.pem"
    assert (b.files[0].mode, r.files[0].mode, r.files[0].uid) == (0o644, 0o640, 0)
    assert b.users == (UserSpec("svc", 1500, 1500),)
    assert b.users[0].home_dir == "/home/svc"
    assert not b.user_explicit
    assert d.suites == () and d.distro is None
    with pytest.raises(FileFormatError, match="distro"):
        d.debian_distro()


def test_file_mode_from_executable_and_toml_octal(tmp_path: Path) -> None:
    text = INHOUSE.replace('mode = "0640"', "mode = 0o600").replace(
        'src = "corp-ca.pem"\ndest = "/usr/local/share/ca-certificates/corp-ca.crt"\n\n[[build',
        'src = "tool.sh"\ndest = "/usr/local/bin/tool"\n\n[[build')
    path = write_inhouse(tmp_path, text)
    tool = path.parent / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    os.chmod(tool, 0o755)
    d = definition.load(path)
    assert (d.build.files[0].dest, d.build.files[0].mode) == ("usr/local/bin/tool", 0o755)
    assert d.run.files[0].mode == 0o600


def test_user_table_makes_the_user_explicit(tmp_path: Path) -> None:
    d = definition.load(write_inhouse(tmp_path, INHOUSE + '\n[run.user]\nname = "app"\n'
                                      'uid = 2000\ngid = 2000\n'))
    assert d.run.user_explicit and not d.build.user_explicit
    d = definition.load(write_inhouse(tmp_path, INHOUSE + '\n[user]\nuid = 1001\n', "b"))
    assert d.run.user_explicit and d.build.user.uid == 1001


def test_oci_base_relative_to_the_stack_dir(tmp_path: Path) -> None:
    d = definition.load(write_inhouse(tmp_path, INHOUSE.replace(
        'base = "example/base-run"', 'base = "oci:layouts/run:v1"')))
    assert d.run.base == f"oci:{(tmp_path / 'inhouse' / 'layouts/run').absolute()}:v1"


@pytest.mark.parametrize(("edit", "match"), [
    (lambda t: t.replace('base = "example/base-run"', 'base = "example/base-run"\n'
                         'variant = "apt"'), r"run\.variant: not allowed with run\.base"),
    (lambda t: t.replace('base = "example/base-run"', 'base = "x"\ncustomize = ["true"]'),
     r"run\.customize"),
    (lambda t: t.replace('base = "example/base-run"\n', ""), r"run: needs 'variant'"),
    (lambda t: t.replace('src = "corp-ca.pem"', 'src = "missing.pem"', 1),
     r"build\.files\[0\]\.src: .*missing\.pem"),
    (lambda t: t.replace('dest = "/usr/local/share/ca-certificates/corp-ca.crt"',
                         'dest = "/.."', 1), r"build\.files\[0\]\.dest"),
    (lambda t: t.replace('mode = "0640"', 'mode = "rw"'), r"run\.files\[0\]\.mode"),
    (lambda t: t + '\n[[run.users]]\nname = "a"\nuid = 7\n[[run.users]]\nname = "a"\n'
     'uid = 8\n', r"run\.users: a user is listed twice"),
    (lambda t: t.replace("uid = 1500", 'uid = "x"'), r"build\.users\[0\]\.uid"),
])
def test_errors_name_the_key(tmp_path: Path, edit: object, match: str) -> None:
    path = write_inhouse(tmp_path, edit(INHOUSE))  # type: ignore[operator]
    with pytest.raises(FileFormatError, match=match) as info:
        definition.load(path)
    assert str(path) in str(info.value)


def test_debian_images_keep_their_rules(tmp_path: Path) -> None:
    text = MINI.replace("[distro]\n", "[x]\n").replace("[x]\nname", "#").replace(
        'version = "12"\ncodename = "bookworm"\n', "")
    with pytest.raises(FileFormatError):
        definition.load(write_stack(tmp_path, text))
    text = MINI + '\n[[run.files]]\nsrc = "a"\ndest = "/a"\n'
    (tmp_path / "f" / "teststack").mkdir(parents=True)
    (tmp_path / "f" / "teststack" / "a").write_text("a")
    with pytest.raises(FileFormatError, match=r"run\.files: only with run\.base"):
        definition.load(write_stack(tmp_path / "f", text))


def test_mixed_stack_needs_distro_for_its_debian_image(tmp_path: Path) -> None:
    text = INHOUSE.replace('base = "example/base-run"', 'variant = "essential"').replace(
        '[[run.files]]\nsrc = "corp-ca.pem"\ndest = "/usr/local/share/ca-certificates/'
        'corp-ca.crt"\nmode = "0640"\n', "")
    with pytest.raises(FileFormatError, match=r"distro: required for run"):
        definition.load(write_inhouse(tmp_path, text))
    text = text.replace('description = "in-house test"', 'description = "x"\n[distro]\n'
                        'name = "debian"\nversion = "12"\ncodename = "bookworm"')
    d = definition.load(write_inhouse(tmp_path, text, "ok"))
    assert d.run.base is None and d.build.base is not None and d.suites == ("bookworm",)


def test_lock_entry_with_base_round_trips(tmp_path: Path) -> None:
    d = definition.load(write_inhouse(tmp_path, INHOUSE.replace(
        'base = "example/base-run"', 'base = "example/base-run"\npackages = ["jq"]')))
    digest = "sha256:" + "ab" * 32
    entry = stacklock.ImageLock(None, ("jq",), {"jq": "1.6-2.1", "libjq1": "1.6-2.1"},
                                "example/base-run", digest)
    lk = stacklock.Lock({"run": entry})
    stacklock.dump(d.lock_path, lk)
    text = d.lock_path.read_text()
    assert 'base = "example/base-run"' in text and f'base-digest = "{digest}"' in text
    assert "variant" not in text
    back = stacklock.load(d.lock_path)
    assert back is not None and back.to_dict() == lk.to_dict()
    assert back.get(d.run) == entry
    assert back.get(d.run, digest) == entry
    assert back.get(d.run, "sha256:" + "cd" * 32) is None  # a new base: resolve again
    d2 = definition.load(write_inhouse(tmp_path, INHOUSE, "other"))
    assert back.get(d2.run) is None  # packages changed
    with pytest.raises(FileFormatError, match="images.run"):
        stacklock.parse({"version": 1, "images": {"run": {"include": [], "packages": []}}},
                        "x.lock")
