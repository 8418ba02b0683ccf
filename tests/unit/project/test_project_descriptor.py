"""project.toml: schema 0.2 (the spec's example and every table), the 0.1 form, lookup rules
and errors that name the file and the key (UsageError, exit 3)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lifecycle.errors import UsageError
from lifecycle.project import descriptor as pd
from lifecycle.project.descriptor import BuildpackRef, InlineScript, License

SPEC_EXAMPLE = """
[_]
id = "io.buildpacks.my-app"
version = "0.1"
schema-version = "0.2"

[_.metadata]
cdn = "https://cdn.example.com"

[[_.metadata.assets]]
url = "https://cdn.example.com/assets/foo.jar"
checksum = "3b1b39893d8e34a6d0bd44095afcd5c4"

[_.metadata.fizz]
buzz = ["a", "b", "c"]

[io.buildpacks]
builder = "cnbs/sample-builder:bionic"
include = [
    "cmd/",
    "go.mod",
    "go.sum",
    "*.go"
]

[[io.buildpacks.group]]
id = "io.buildpacks/java"
version = "1.0"

[[io.buildpacks.group]]
id = "io.buildpacks/nodejs"
version = "1.0"

[[io.buildpacks.group]]
id = "example/post-build"

    [io.buildpacks.group.script]
    api = "0.5"
    inline = "./post-build.sh"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "project.toml"
    path.write_text(text)
    return path


def test_spec_example(tmp_path: Path) -> None:
    d = pd.load(write(tmp_path, SPEC_EXAMPLE))
    assert d.schema_version == "0.2" and d.id == "io.buildpacks.my-app" and d.version == "0.1"
    assert d.builder == "cnbs/sample-builder:bionic"
    assert d.include == ("cmd/", "go.mod", "go.sum", "*.go") and d.exclude == ()
    assert d.group == (
        BuildpackRef("io.buildpacks/java", "1.0"), BuildpackRef("io.buildpacks/nodejs", "1.0"),
        BuildpackRef("example/post-build", script=InlineScript("0.5", "./post-build.sh")))
    assert d.group[2].is_inline and d.group[2].script is not None
    assert d.group[2].script.shell == "/bin/sh"
    assert d.metadata["cdn"] == "https://cdn.example.com"
    assert d.metadata["assets"][0]["checksum"] == "3b1b39893d8e34a6d0bd44095afcd5c4"
    assert d.path == tmp_path / "project.toml" and d.base_dir == tmp_path


def test_v02_every_table(tmp_path: Path) -> None:
    d = pd.load(write(tmp_path, """
[_]
schema-version = "0.2"
name = "My App"
authors = ["a <a@x>", "b"]
documentation-url = "https://docs"
source-url = "https://src"
[[_.licenses]]
type = "MIT"
[[_.licenses]]
uri = "https://lic"

[io.buildpacks]
exclude = ["spec/", "*.md"]
[[io.buildpacks.pre.group]]
uri = "docker://example/pre:1"
[[io.buildpacks.post.group]]
id = "example/post"
[io.buildpacks.post.group.script]
api = "0.10"
shell = "/bin/bash"
inline = "echo post"
[[io.buildpacks.build.env]]
name = "JAVA_OPTS"
value = "-Xmx1g"
[[io.buildpacks.build.env]]
name = "EMPTY"
[[io.buildpacks.build.env]]
name = "JAVA_OPTS"
value = "-Xmx2g"

[com.example.other]
anything = 1
"""))
    assert d.name == "My App" and d.authors == ("a <a@x>", "b")
    assert d.documentation_url == "https://docs" and d.source_url == "https://src"
    assert d.licenses == (License(type="MIT"), License(uri="https://lic"))
    assert d.exclude == ("spec/", "*.md") and d.include == ()
    assert d.pre_group == (BuildpackRef(uri="docker://example/pre:1"),)
    assert d.pre_group[0].locator == "docker://example/pre:1"
    assert d.post_group == (BuildpackRef("example/post", script=InlineScript(
        "0.10", "echo post", "/bin/bash")),)
    assert dict(d.build_env) == {"JAVA_OPTS": "-Xmx2g", "EMPTY": ""}   # later entry wins
    assert d.group == () and d.builder == ""


def test_deprecated_env_spelling(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = '[_]\nschema-version = "0.2"\n[[io.buildpacks.env.build]]\nname = "A"\nvalue = "1"\n'
    with caplog.at_level(logging.WARNING):
        assert dict(pd.load(write(tmp_path, old)).build_env) == {"A": "1"}
    assert "deprecated" in caplog.text
    both = old + '[[io.buildpacks.build.env]]\nname = "B"\nvalue = "2"\n'
    assert dict(pd.load(write(tmp_path, both)).build_env) == {"B": "2"}


def test_v01_form(tmp_path: Path) -> None:
    d = pd.load(write(tmp_path, """
[project]
id = "io.buildpacks.my-app"
version = "0.1"
source-url = "https://src"
[[project.licenses]]
type = "Apache-2.0"

[build]
exclude = ["spec/"]
builder = "my/builder"
[[build.buildpacks]]
id = "io.buildpacks/java"
version = "1.0"
[[build.buildpacks]]
uri = "./local-bp"
[[build.env]]
name = "JAVA_OPTS"
value = "-Xmx1g"

[metadata]
foo = "bar"
[metadata.fizz]
buzz = ["a", "b", "c"]
"""))
    assert d.schema_version == "0.1" and d.id == "io.buildpacks.my-app" and d.version == "0.1"
    assert d.source_url == "https://src" and d.licenses == (License("Apache-2.0"),)
    assert d.exclude == ("spec/",) and d.builder == "my/builder"
    assert [b.locator for b in d.group] == ["io.buildpacks/java@1.0", "./local-bp"]
    assert dict(d.build_env) == {"JAVA_OPTS": "-Xmx1g"}
    assert d.metadata == {"foo": "bar", "fizz": {"buzz": ["a", "b", "c"]}}


def test_v01_with_explicit_version(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = ('[_]\nschema-version = "0.1"\n[build]\ninclude = ["a"]\n'
            '[io.buildpacks]\nexclude = ["b"]\n')
    with caplog.at_level(logging.WARNING):
        d = pd.load(write(tmp_path, text))
    assert d.include == ("a",) and d.exclude == ()
    assert "ignored in schema version 0.1" in caplog.text


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert pd.for_app(tmp_path) == pd.ProjectDescriptor()
    assert pd.load(tmp_path / "nope.toml", missing_ok=True) == pd.ProjectDescriptor()
    write(tmp_path, '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "b"\n')
    assert pd.for_app(tmp_path).builder == "b"
    other = tmp_path / "elsewhere.toml"
    other.write_text('[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "c"\n')
    assert pd.for_app(tmp_path, other).builder == "c"
    with pytest.raises(UsageError, match="nope.toml: project descriptor not found"):
        pd.for_app(tmp_path, tmp_path / "nope.toml")


BAD: list[tuple[str, str]] = [
    ('[_]\nschema-version = "0.2"\n[io.buildpacks]\ninclude = ["a"]\nexclude = ["b"]\n',
     r"io.buildpacks: include and exclude cannot both be set"),
    ('[build]\ninclude = []\nexclude = []\n', r"build: include and exclude cannot both be set"),
    ('[_]\nschema-version = "0.3"\n', r"_.schema-version: unsupported version '0.3'"),
    ('[_]\nschema-version = 0.2\n', r"_.schema-version: must be a string"),
    ('[_]\nname = "x"\n', r"_.schema-version: is required"),
    ('[io.buildpacks]\nbuilder = "x"\n', r"_.schema-version: is required"),
    ('[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilders = "x"\n',
     r"io.buildpacks: Additional properties .*'builders'"),
    ('[_]\nschema-version = "0.2"\nnmae = "x"\n', r"_: Additional properties .*'nmae'"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.group]]\nversion = "1"\n',
     r"io.buildpacks.group\[0\]: a buildpack needs an id or a uri"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.group]]\nid = "a"\n'
     '[[io.buildpacks.group]]\nuri = "u"\nversion = "1"\n',
     r"io.buildpacks.group\[1\]: cannot have both uri and version"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.pre.group]]\n'
     '[io.buildpacks.pre.group.script]\napi = "0.10"\ninline = "x"\n',
     r"io.buildpacks.pre.group\[0\]: an inline buildpack \(script\) needs an id"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.group]]\nid = "a"\nuri = "u"\n'
     '[io.buildpacks.group.script]\napi = "0.10"\ninline = "x"\n',
     r"cannot have both uri and script"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.group]]\nid = "a"\n'
     '[io.buildpacks.group.script]\ninline = "x"\n',
     r"io.buildpacks.group\[0\].script: 'api' is a required property"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.group]]\nid = "a"\n'
     '[io.buildpacks.group.script]\napi = "latest"\ninline = "x"\n',
     r"io.buildpacks.group\[0\].script.api: 'latest' does not match"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nvalue = "1"\n',
     r"io.buildpacks.build.env\[0\]: 'name' is a required property"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "A=B"\n',
     r"io.buildpacks.build.env\[0\].name"),
    ('[_]\nschema-version = "0.2"\n[[_.licenses]]\n', r"_.licenses\[0\]: a license needs"),
    ('[project]\nid = 3\n', r"project.id: 3 is not of type 'string'"),
    ('[_\nschema-version = "0.2"\n', r"invalid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=message) as info:
        pd.load(path)
    assert str(info.value).startswith(str(path)) and info.value.exit_code == 3
