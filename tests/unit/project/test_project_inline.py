"""Inline buildpacks from project.toml: the files written, a valid buildpack.toml for the
lifecycle, and a real ``lifecycle detector`` + ``builder`` run of one."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lifecycle.buildpack import descriptor as bpd
from lifecycle.errors import BuildpackAPIError, UsageError
from lifecycle.project import descriptor as pd
from lifecycle.project.descriptor import BuildpackRef, InlineScript
from lifecycle.project.inline import install_inline, materialize_inline

PROJECT = """
[_]
schema-version = "0.2"

[[io.buildpacks.group]]
id = "example/inline"
version = "1.2.3"
  [io.buildpacks.group.script]
  api = "0.10"
  shell = "/bin/bash"
  inline = '''
set -euo pipefail
mkdir -p "$CNB_LAYERS_DIR/hello"
echo "hi from $(pwd)" > "$CNB_LAYERS_DIR/hello/greeting"
printf '[types]\\nlaunch = true\\n' > "$CNB_LAYERS_DIR/hello.toml"
echo built > built.txt
'''
"""


def test_files_written(tmp_path: Path) -> None:
    ref = BuildpackRef("example/post-build", script=InlineScript("0.10", "./post-build.sh"))
    root = materialize_inline(ref, tmp_path / "bp")
    assert tomllib.loads((root / "buildpack.toml").read_text()) == {
        "api": "0.10", "buildpack": {"id": "example/post-build", "version": "0.0.0"}}
    assert (root / "bin" / "build").read_text() == "#!/bin/sh\n\n./post-build.sh\n"
    assert (root / "bin" / "detect").read_text() == "#!/bin/sh\n\nexit 0\n"
    for name in ("build", "detect"):
        assert os.access(root / "bin" / name, os.X_OK)
    loaded = bpd.load(root / "buildpack.toml")          # the lifecycle accepts it
    assert (loaded.id, loaded.version, str(loaded.api)) == ("example/post-build", "0.0.0", "0.10")
    assert [t.os for t in loaded.targets] == ["linux"]
    assert subprocess.run([root / "bin" / "detect"], check=False).returncode == 0


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no inline script"):
        materialize_inline(BuildpackRef("a", "1"), tmp_path / "x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("")
    ref = BuildpackRef("a", script=InlineScript("0.10", "true"))
    with pytest.raises(UsageError, match="new or empty directory"):
        materialize_inline(ref, tmp_path / "full")
    old = BuildpackRef("a", script=InlineScript("0.5", "true"))     # the spec example's API
    with pytest.raises(BuildpackAPIError, match=r"a \(inline, project.toml\).*0.5") as info:
        materialize_inline(old, tmp_path / "y")
    assert info.value.exit_code == 12 and not (tmp_path / "y").exists()


def test_detect_and_build_with_the_lifecycle(tmp_path: Path) -> None:
    app, layers, platform, bps = (tmp_path / n for n in ("app", "layers", "platform", "bps"))
    for d in (app, layers, platform):
        d.mkdir()
    (app / "project.toml").write_text(PROJECT)
    ref = pd.for_app(app).group[0]
    bp_dir = install_inline(ref, bps)
    assert bp_dir == bps / "example_inline" / "1.2.3"
    order = tmp_path / "order.toml"
    order.write_text('[[order]]\n[[order.group]]\nid = "example/inline"\nversion = "1.2.3"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env["CNB_PLATFORM_API"] = "0.15"
    common = ["-app", str(app), "-layers", str(layers), "-platform", str(platform),
              "-buildpacks", str(bps)]
    for argv in (["detector", *common, "-order", str(order), "-system",
                  str(tmp_path / "system.toml"), "-analyzed", str(tmp_path / "analyzed.toml")],
                 ["builder", *common, "-build-config", str(tmp_path / "build-config")]):
        proc = subprocess.run([sys.executable, "-m", "lifecycle.cli.phases", *argv], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    group = tomllib.loads((layers / "group.toml").read_text())["group"]
    assert group == [{"id": "example/inline", "version": "1.2.3", "api": "0.10"}]
    greeting = layers / "example_inline" / "hello" / "greeting"
    assert greeting.read_text() == f"hi from {app}\n"        # runs in the app directory
    assert (app / "built.txt").read_text() == "built\n"
