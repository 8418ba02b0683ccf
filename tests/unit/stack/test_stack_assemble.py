"""Stack image config: labels, env, user and target per platform.md "Build/Run Image"."""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.oci import mutate
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import layer_from_files
from lifecycle.platform import labels as L
from lifecycle.stack import assemble, definition

PKGS = {"bash": "5.2.15-2+b7", "python3": "3.11.2-1+b1"}


def test_build_and_run_config() -> None:
    d = definition.load(definition.locate("default"))
    b = assemble.image_config(d, d.build, PKGS, key="sha256:k", epoch=315532801)
    r = assemble.image_config(d, d.run, PKGS, key="sha256:k", epoch=315532801)
    for cfg in (b, r):
        assert cfg.user == "1000:1000"
        assert cfg.env["CNB_USER_ID"] == "1000" and cfg.env["CNB_GROUP_ID"] == "1000"
        assert cfg.env["PATH"].startswith("/usr/local/sbin:")
        assert cfg.labels[L.BASE_DISTRO_NAME] == "debian"
        assert cfg.labels[L.BASE_DISTRO_VERSION] == "12"
        assert cfg.labels[L.STACK_ID] == "io.buildpacks.stacks.bookworm"
        assert cfg.labels[L.BASE_MAINTAINER] == "pypack"
        assert cfg.labels[assemble.KEY_LABEL] == "sha256:k"
        assert json.loads(cfg.labels[L.BASE_METADATA])["packages"] == PKGS
        assert L.BASE_RELEASED not in cfg.labels  # the default timestamp is no release date
    assert b.env["CNB_STACK_ID"] == "io.buildpacks.stacks.bookworm"
    assert "CNB_STACK_ID" not in r.env
    assert r.labels[L.BASE_ID] == "io.buildpacks.stacks.bookworm"
    assert r.labels[L.REBASABLE] == "true"
    assert L.BASE_ID not in b.labels
    assert b.labels[L.BASE_DESCRIPTION] != r.labels[L.BASE_DESCRIPTION]
    dated = assemble.image_config(d, d.run, PKGS, key="k", epoch=1_700_000_000)
    assert dated.labels[L.BASE_RELEASED] == "2023-11-14T22:13:20Z"


def test_assemble_is_deterministic() -> None:
    d = definition.load(Path(__file__).resolve().parents[3] / "tests/testdata/stack/mini"
                        / "stack.toml")
    layer = layer_from_files({"etc/passwd": b"root:x:0:0::/root:/bin/sh\n"})
    cfg = assemble.image_config(d, d.run, PKGS, key="k", epoch=315532801)
    img = assemble.assemble(layer, assemble.platform_for("amd64"), cfg)
    check_image(img)
    c = img.config()
    assert (c.os, c.architecture, c.created) == ("linux", "amd64", mutate.rfc3339(315532801))
    assert c.config.user == "1000:1000"
    assert c.history[0].created_by is not None and "mmdebstrap" in c.history[0].created_by
    again = assemble.assemble(layer, assemble.platform_for("amd64"), cfg)
    assert again.raw_manifest() == img.raw_manifest()
    arm = assemble.platform_for("armhf")
    assert (arm.architecture, arm.variant) == ("arm", "v7")
