"""``pypack buildpack new|package|inspect`` through click: output, the labels round-tripping
through ``inspect --json``, and exit codes for bad input. The local store is the session's
temp PYPACK_HOME (tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from buildpackage_rig import PACKAGE_META, TESTDATA
from click.testing import CliRunner, Result

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.buildpackage import metadata
from lifecycle.cli.main import cli


def _pypack(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _ok(*args: str) -> str:
    res = _pypack(*args)
    assert res.exit_code == 0, res.output
    return res.output


def test_package_then_inspect_round_trips_the_labels() -> None:
    out = _ok("buildpack", "package", "unit-cli/meta:1", "--config", str(PACKAGE_META),
              "--label", "org.example.team=build")
    digest = out.strip().splitlines()[-1].rsplit("@", 1)[1]
    data = json.loads(_ok("buildpack", "inspect", "unit-cli/meta:1", "--json"))
    assert data["digest"] == digest and data["kind"] == "buildpackage"
    assert data["entrypoint"] == {"id": "test/meta", "version": "0.1.0"}
    labels = client.open_image("store:unit-cli/meta:1", client.Context()).config().config.labels
    assert labels["org.example.team"] == "build"
    for name in (metadata.PACKAGE_METADATA, lb.BUILDPACK_LAYERS):
        assert data["labels"][name] == json.loads(labels[name])
    assert [(o["depth"], o["group"], o["id"]) for o in data["order"]] == [
        (0, 1, "test/one"), (0, 1, "test/two"), (0, 2, "test/two")]
    text = _ok("buildpack", "inspect", "unit-cli/meta:1")
    for needle in (digest, "test/meta@0.1.0", "test/one", "test/two", "Detection order",
                   "Group #2: test/two@2.0.0", "(optional)"):
        assert needle in text, needle


def test_package_path_and_file_format(tmp_path: Path) -> None:
    out = _ok("buildpack", "package", str(tmp_path / "one"), "--path",
              str(TESTDATA / "bp-one"), "--format", "file")
    assert out.strip().splitlines()[-1].startswith(f"{tmp_path / 'one.cnb'}@sha256:")
    data = json.loads(_ok("buildpack", "inspect", str(tmp_path / "one.cnb"), "--json"))
    assert data["buildpacks"][0]["id"] == "test/one"


def test_new_prints_what_it_created(tmp_path: Path) -> None:
    out = _ok("buildpack", "new", "example/cli", "--path", str(tmp_path / "bp"), "--lang",
              "python", "--targets", "linux/amd64", "--api", "0.11")
    assert "create  bin/build" in out and "create  lib/lifecycle/sdk" in out
    assert f"Successfully created example/cli in {tmp_path / 'bp'}" in out
    assert 'api = "0.11"' in (tmp_path / "bp" / "buildpack.toml").read_text()


def test_errors_exit_with_their_codes(tmp_path: Path) -> None:
    both = _pypack("buildpack", "package", "x", "--config", str(PACKAGE_META), "--path",
                   str(tmp_path))
    assert both.exit_code == 3 and "cannot be used together" in both.output
    publish_file = _pypack("buildpack", "package", "x", "--path", str(tmp_path), "--format",
                           "file", "--publish")
    assert publish_file.exit_code == 3
    no_bp = _pypack("buildpack", "package", "x", "--path", str(tmp_path))
    assert no_bp.exit_code == 1 and "no buildpack.toml found" in no_bp.output
    missing = _pypack("buildpack", "inspect", "store:unit-cli/none:1")
    assert missing.exit_code == 1 and "is not in the local store" in missing.output
    exists = _pypack("buildpack", "new", "ex/a", "--path", str(tmp_path))
    assert exists.exit_code == 3 and "exists" in exists.output
    bad_label = _pypack("buildpack", "package", "x", "--path", str(tmp_path), "-l", "nolabel")
    assert bad_label.exit_code == 3
