"""``pypack sbom download``: the launch SBOM layer (found by the label's ``sbom.sha`` diffID)
lands in ``DIR/layers/sbom/launch`` whatever ``<layers>`` was at export time; clear errors for
images without an SBOM; the pure helpers that find the root and name each document."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inspect_cmd"))

from app_image_rig import DEPS_CDX, LAUNCH_CDX, app_image

from lifecycle import client
from lifecycle.errors import ImageError
from lifecycle.oci.fixtures import random_image
from lifecycle.sbom import classify, download, launch_root, read_documents


def _pypack(*args: str) -> Result:
    from lifecycle.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_download_from_the_store(tmp_path: Path) -> None:
    img, _ = app_image()
    client.Context().store.put(img, "unit-sbom/app:1")
    out = tmp_path / "out"
    res = _pypack("sbom", "download", "unit-sbom/app:1", "--output-dir", str(out))
    assert res.exit_code == 0, res.output
    launch = out / "layers" / "sbom" / "launch"
    assert (launch / "test_sbom" / "deps" / "sbom.cdx.json").read_bytes() == DEPS_CDX
    assert (launch / "test_sbom" / "sbom.cdx.json").read_bytes() == LAUNCH_CDX
    assert f"Wrote 2 SBOM file(s) of unit-sbom/app:1 to {launch}" in res.output
    assert "layers/sbom/launch/test_sbom/deps/sbom.cdx.json" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["layers"]  # no temp dir left


def test_download_replaces_a_previous_download(tmp_path: Path) -> None:
    img, _ = app_image()
    stale = tmp_path / "layers" / "sbom" / "launch" / "old_bp" / "sbom.spdx.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    got = download(img, "x", tmp_path)
    assert not stale.exists()
    assert got.files == ("layers/sbom/launch/test_sbom/deps/sbom.cdx.json",
                         "layers/sbom/launch/test_sbom/sbom.cdx.json")


def test_download_re_roots_an_exporter_layers_path(tmp_path: Path) -> None:
    """The ``exporter`` program with ``-layers /tmp/build/layers`` writes that path in the tar."""
    img, _ = app_image(sbom={"tmp/build/layers/sbom/launch/test_sbom/sbom.cdx.json": b"{}"})
    got = download(img, "x", tmp_path / "o")
    assert got.files == ("layers/sbom/launch/test_sbom/sbom.cdx.json",)
    assert not (tmp_path / "o" / "tmp").exists()


def test_download_from_an_oci_layout(tmp_path: Path) -> None:
    img, _ = app_image()
    client.write_image(img, f"oci:{tmp_path / 'lay'}:app", client.Context())
    res = _pypack("sbom", "download", f"oci:{tmp_path / 'lay'}:app", "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o/layers/sbom/launch/test_sbom/deps/sbom.cdx.json").is_file()


def test_no_sbom_is_a_clear_error(tmp_path: Path) -> None:
    img, _ = app_image(sbom=None)
    client.write_image(img, f"oci:{tmp_path / 'lay'}:nosbom", client.Context())
    res = _pypack("sbom", "download", f"oci:{tmp_path / 'lay'}:nosbom", "-o", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "could not find SBOM information on" in res.output
    assert "wrote no launch SBOM files" in res.output
    assert not (tmp_path / "o" / "layers").exists()
    assert read_documents(img, "x", missing_ok=True) == ()
    res = _pypack("inspect", f"oci:{tmp_path / 'lay'}:nosbom", "--bom")
    assert res.exit_code == 0 and '"sbom": []' in res.output


def test_not_a_buildpacks_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not built with buildpacks.*no SBOM"):
        download(random_image(1), "plain", tmp_path)


def test_label_names_a_missing_layer(tmp_path: Path) -> None:
    img, _ = app_image(sbom_sha="sha256:" + "0" * 64)
    with pytest.raises(ImageError, match="not among the image's layers"):
        download(img, "x", tmp_path)
    with pytest.raises(ImageError, match="not among the image's layers"):
        read_documents(img, "x")


def test_launch_root() -> None:
    assert launch_root(["layers/", "layers/sbom/", "layers/sbom/launch/a/sbom.cdx.json"]) == (
        "layers/sbom/launch")
    assert launch_root(["x/y/sbom/launch/bp/sbom/launch/f"]) == "x/y/sbom/launch"
    assert launch_root(["layers/other/file"]) is None


@pytest.mark.parametrize(("rel", "want"), [
    ("test_sbom/deps/sbom.cdx.json", ("test/sbom", "deps", "cdx.json")),
    ("test_sbom/sbom.spdx.json", ("test/sbom", None, "spdx.json")),
    ("other_bp/l/sbom.syft.json", ("other_bp", "l", "syft.json")),
    ("sbom.legacy.json", (None, None, "legacy.json")),
])
def test_classify(rel: str, want: tuple[str | None, str | None, str]) -> None:
    assert classify(rel, ["test/sbom"]) == want
