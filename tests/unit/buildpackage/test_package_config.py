"""package.toml (pack's format): sources resolved against the file, pack's refusals, the
default configuration for ``--path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildpackage_rig import PACKAGE_META, TESTDATA, write_toml

from lifecycle.buildpack.targets import Target
from lifecycle.buildpackage import config
from lifecycle.errors import FileFormatError, UsageError


def test_fixture_package_toml() -> None:
    cfg = config.load(PACKAGE_META)
    assert cfg.buildpack.path == TESTDATA / "meta"
    assert [d.path for d in cfg.dependencies] == [TESTDATA / "bp-one", TESTDATA / "bp-two"]
    assert [d.key for d in cfg.dependencies] == ["dependencies[0]", "dependencies[1]"]
    assert cfg.os == "linux"
    assert cfg.targets == (Target("linux"),)


def test_dependency_kinds(tmp_path: Path) -> None:
    path = write_toml(tmp_path, """\
        [buildpack]
        uri = "file:///abs/bp"
        [[dependencies]]
        uri = "docker://example.com/bp:1"
        [[dependencies]]
        image = "example.com/bp:2"
        [[dependencies]]
        uri = "../pkg/dep.cnb"
        [[dependencies]]
        uri = "oci:/lay:x"
        [platform]
        os = "linux"
    """)
    cfg = config.load(path)
    assert cfg.buildpack.path == Path("/abs/bp")
    deps = cfg.dependencies
    assert (deps[0].path, deps[0].image) == (None, "docker://example.com/bp:1")
    assert (deps[1].path, deps[1].image) == (None, "example.com/bp:2")
    assert deps[2].path == tmp_path.parent / "pkg" / "dep.cnb"
    assert deps[3].image == "oci:/lay:x"


def test_for_directory_is_packs_default(tmp_path: Path) -> None:
    cfg = config.for_directory(tmp_path)
    assert cfg.buildpack.path == tmp_path
    assert cfg.dependencies == () and cfg.os == "linux"


@pytest.mark.parametrize(("body", "error", "needle"), [
    ('[[dependencies]]\nuri = "x"\n', FileFormatError, "buildpack.uri: missing"),
    ('[buildpack]\nuri = "x"\ncolour = "red"\n', FileFormatError, "colour"),
    ('[buildpack]\nuri = "x"\n[[dependencies]]\nuri = "a"\nimage = "b"\n', FileFormatError,
     "dependencies[0]"),
    ('[buildpack]\nuri = "x"\n[platform]\nos = "plan9"\n', FileFormatError, "platform.os"),
    ('[buildpack]\nuri = "docker://example.com/bp:1"\n', FileFormatError,
     "belongs in [[dependencies]]"),
    ('[buildpack]\nuri = "x"\n[[dependencies]]\nuri = "https://example.com/bp.tgz"\n',
     FileFormatError, "dependencies[0]: uri 'https://example.com/bp.tgz'"),
    ('[extension]\nuri = "x"\n', UsageError, "image extensions are not supported"),
])
def test_refusals_name_file_and_key(tmp_path: Path, body: str, error: type[Exception],
                                    needle: str) -> None:
    path = write_toml(tmp_path, body)
    with pytest.raises(error) as err:
        config.load(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)
