"""builder.toml (pack's format, cnb-digest §7.4): parsing, the [stack] merge, relative URIs,
and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from builder_image_rig import TESTDATA, TWO_BUILDPACKS, write_config

from lifecycle.builder import config
from lifecycle.builder.config import BuildEnv, ModuleRef, RunImage
from lifecycle.errors import FileFormatError


def test_fixture_config_parses() -> None:
    cfg = config.load(TESTDATA / "builder.toml")
    assert cfg.description == "fixture builder"
    assert cfg.build_image == "example.com/build:1"
    assert cfg.run_images == (RunImage("example.com/run:1", ("mirror.example.com/run:1",)),)
    assert [b.path for b in cfg.buildpacks] == [TESTDATA / "bp-alpha", TESTDATA / "bp-beta"]
    assert (cfg.buildpacks[1].id, cfg.buildpacks[1].version) == ("test/beta", "1.2.3")
    assert cfg.order == ((ModuleRef("test/alpha", "0.0.1"), ModuleRef("test/beta", "", True)),
                         (ModuleRef("test/beta"),))
    assert cfg.lifecycle_version == "0.20.0"
    assert cfg.build_config_env() == {"GREETING": "hello", "PATH.prepend": "/opt/bin",
                                      "PATH.delim": ":"}
    assert cfg.warnings == ()


def test_legacy_stack_table_is_merged(tmp_path: Path) -> None:
    path = write_config(tmp_path, """\
        [stack]
        id = "io.example.stack"
        build-image = "b:1"
        run-image = "r:1"
        run-image-mirrors = ["m/r:1"]
    """, copy_buildpacks=False)
    cfg = config.load(path)
    assert cfg.build_image == "b:1"
    assert cfg.stack_id == "io.example.stack"
    assert cfg.run_images == (RunImage("r:1", ("m/r:1",)),)
    assert cfg.warnings == (f"{path}: empty 'order' definition",)


def test_uris_resolve_against_the_config_directory(tmp_path: Path) -> None:
    path = write_config(tmp_path, """\
        [[buildpacks]]
        uri = "../elsewhere/bp"
        [[buildpacks]]
        uri = "file:///abs/bp.tgz"
        [[buildpacks]]
        uri = "docker://example.com/bp:1"
        [[buildpacks]]
        image = "example.com/bp:2"
        [[buildpacks]]
        uri = "https://example.com/bp.tgz"
        [build]
        image = "b"
        [[run.images]]
        image = "r"
    """, copy_buildpacks=False)
    bps = config.load(path).buildpacks
    assert bps[0].path == tmp_path.parent / "elsewhere" / "bp"
    assert bps[1].path == Path("/abs/bp.tgz")
    assert (bps[2].path, bps[2].image) == (None, "docker://example.com/bp:1")
    assert (bps[3].path, bps[3].image) == (None, "example.com/bp:2")
    assert (bps[4].path, bps[4].image) == (None, "")
    assert [b.key for b in bps] == [f"buildpacks[{i}]" for i in range(5)]


def test_build_env_table_form(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_BUILDPACKS.replace(
        '[build]\n    image = "example.com/build:1"',
        '[build]\n    image = "example.com/build:1"\n    env = { B = "2", A = "1" }'))
    cfg = config.load(path)
    assert cfg.build_env == (BuildEnv("A", "1"), BuildEnv("B", "2"))


@pytest.mark.parametrize(("body", "needle"), [
    ('[[run.images]]\nimage = "r"\n', "build.image: required"),
    ('[build]\nimage = "b"\n', "run.images: at least one run image is required"),
    ('[build]\nimage = "b"\n[stack]\nbuild-image = "c"\nrun-image = "r"\n',
     "build.image 'b' and stack.build-image 'c' do not match"),
    ('[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[stack]\nrun-image = "s"\n',
     "run.images[0].image 'r' and stack.run-image 's' do not match"),
    ('[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[lifecycle]\nversion = "1"\nuri = "x"\n',
     "lifecycle: declare version or uri, not both"),
    ('[build]\nimage = "b"\n[[build.env]]\nname = "P"\nvalue = "x"\nsuffix = "append"\n'
     '[[run.images]]\nimage = "r"\n', "build.env[0]: suffix 'append' needs a 'delim'"),
    ('[build]\nimage = "b"\ncolour = "red"\n[[run.images]]\nimage = "r"\n',
     "build: Additional properties are not allowed ('colour' was unexpected)"),
    ('[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\n'
     'version = "1"\n', "order[0].group[0]: 'id' is a required property"),
    ('[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[buildpacks]]\nuri = "a"\n'
     'image = "b"\n', "buildpacks[0]"),
    ('[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[buildpacks]]\nversion = "1"\n',
     "buildpacks[0]"),
    ('[build]\nimage = "b"\n[[run.images]]\nmirrors = ["m"]\n',
     "run.images[0]: 'image' is a required property"),
])
def test_errors_name_file_and_key(tmp_path: Path, body: str, needle: str) -> None:
    path = write_config(tmp_path, body, copy_buildpacks=False)
    with pytest.raises(FileFormatError) as err:
        config.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert needle in str(err.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[build\n", copy_buildpacks=False)
    with pytest.raises(FileFormatError, match="invalid TOML"):
        config.load(path)


def test_empty_build_env_value_warns(tmp_path: Path) -> None:
    path = write_config(tmp_path, TWO_BUILDPACKS + '\n[[build.env]]\nname = "EMPTY"\n')
    assert config.load(path).warnings == (f"{path}: build.env[0]: empty value for 'EMPTY'",)
