"""``pypack buildpack new``: the files, targets and APIs of a new buildpack, the vendored SDK
copy for ``--lang python``, and its own test script passing (detect + build twice + run)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from lifecycle.buildpack import descriptor
from lifecycle.buildpack.targets import Distro, Target
from lifecycle.buildpackage import scaffold
from lifecycle.buildpackage.scaffold import NewOptions, parse_target
from lifecycle.errors import BuildpackAPIError, UsageError
from lifecycle.oci.platform import Platform


@pytest.mark.parametrize(("text", "want"), [
    ("linux", Target("linux")),
    ("linux/arm64/v8", Target("linux", "arm64", "v8")),
    ("linux/amd64:ubuntu@22.04@24.04;debian@12",
     Target("linux", "amd64", "", (Distro("ubuntu", "22.04"), Distro("ubuntu", "24.04"),
                                   Distro("debian", "12")))),
    ("windows/amd64:windows-nano", Target("windows", "amd64", "", (Distro("windows-nano"),))),
])
def test_parse_target(text: str, want: Target) -> None:
    assert parse_target(text) == want


@pytest.mark.parametrize("bad", ["", "linux//x", "a/b/c/d", "linux:@1"])
def test_parse_target_refusals(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_target(bad)


def test_render_bash_defaults_to_the_host_target(tmp_path: Path) -> None:
    opts = NewOptions("example/hello-world", path=str(tmp_path / "hw"))
    files = scaffold.render(opts, Platform("linux", "arm64", "v8"))
    assert set(files) == {"buildpack.toml", "bin/detect", "bin/build", "package.toml",
                          "README.md", "test.sh", "sample-app/run.sh"}
    doc = tomllib.loads(files["buildpack.toml"].content.decode())
    assert doc == {"api": "0.12", "buildpack": {
        "id": "example/hello-world", "version": "1.0.0", "name": "Hello World",
        "description": "Greets from a cached launch layer; runs run.sh"},
        "targets": [{"os": "linux", "arch": "arm64"}]}
    assert files["bin/build"].mode == 0o755
    assert b'command = ["bash", "run.sh"]' in files["bin/build"].content
    assert b"example_hello-world" in files["test.sh"].content
    assert b"pypack buildpack package hw --config package.toml" in files["README.md"].content


def test_render_old_api_uses_stacks_and_string_commands(tmp_path: Path) -> None:
    files = scaffold.render(NewOptions("ex/old", path=str(tmp_path / "o"), api="0.8"))
    doc = tomllib.loads(files["buildpack.toml"].content.decode())
    assert doc["stacks"] == [{"id": "*"}] and "targets" not in doc
    assert b'command = "bash"' in files["bin/build"].content


@pytest.mark.parametrize(("opts", "error", "needle"), [
    (NewOptions("ex/a", lang="ruby"), UsageError, "--lang"),
    (NewOptions("has space"), UsageError, "without spaces"),
    (NewOptions("ex/a", api="0.2"), BuildpackAPIError, "0.2"),
    (NewOptions("ex/a", api="0.8", lang="python"), UsageError, "Python SDK"),
])
def test_render_refusals(opts: NewOptions, error: type[Exception], needle: str) -> None:
    with pytest.raises(error, match=needle):
        scaffold.render(opts)


def _run_test_script(root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    proc = subprocess.run(["bash", str(root / "test.sh")], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("lang", ["bash", "python"])
def test_created_buildpack_passes_its_own_test(tmp_path: Path, lang: str) -> None:
    root = tmp_path / "hello"
    written = scaffold.create(NewOptions("example/hello", path=str(root), lang=lang))
    assert Path("buildpack.toml") in written
    desc = descriptor.load(root / "buildpack.toml")
    assert (desc.id, desc.version, str(desc.api)) == ("example/hello", "1.0.0", "0.12")
    for rel in ("bin/detect", "bin/build", "test.sh", "sample-app/run.sh"):
        assert os.access(root / rel, os.X_OK), rel
    if lang == "python":
        sdk = root / "lib" / "lifecycle" / "sdk"
        assert (root / "lib" / "lifecycle" / "__init__.py").read_bytes() == b""
        assert not sdk.is_symlink() and (sdk / "__init__.py").is_file()
        assert not list(sdk.rglob("__pycache__"))
        assert (sdk / "main.py").read_bytes() == (scaffold.sdk_dir() / "main.py").read_bytes()
    out = _run_test_script(root)
    assert "Creating layer 'greeting'" in out and "Reusing layer 'greeting'" in out
    assert out.rstrip().endswith("PASS")


def test_create_refuses_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="exists"):
        scaffold.create(NewOptions("ex/a", path=str(tmp_path)))


def test_default_directory_is_the_last_id_part(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert NewOptions("ex/my-bp").directory() == tmp_path / "my-bp"
