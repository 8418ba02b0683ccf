"""stacks/default/builder.toml: the default builder's definition parses, its order names only
the bundled buildpacks it lists, and (when they are there) it plans against the default stack's
build image shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from builder_image_rig import base

from lifecycle.builder import config, sources
from lifecycle.builder.plan import make_plan

REPO = Path(__file__).resolve().parents[3]
DEFAULT = REPO / "stacks" / "default" / "builder.toml"
IDS = ("pypack/python", "pypack/nodejs", "pypack/procfile")


def test_default_builder_config() -> None:
    cfg = config.load(DEFAULT)
    assert cfg.build_image == "pypack/default-build"
    assert [r.image for r in cfg.run_images] == ["pypack/default-run"]
    assert [b.path for b in cfg.buildpacks] == [REPO / "buildpacks" / i.split("/")[1]
                                                for i in IDS]
    assert [[(r.id, r.optional) for r in g] for g in cfg.order] == [
        [("pypack/python", False), ("pypack/procfile", True)],
        [("pypack/nodejs", False), ("pypack/procfile", True)],
        [("pypack/procfile", False)]]
    assert cfg.warnings == ()


def test_default_builder_plans(tmp_path: Path) -> None:
    cfg = config.load(DEFAULT)
    if not all(b.path is not None and (b.path / "buildpack.toml").is_file()
               for b in cfg.buildpacks):
        pytest.skip("bundled buildpacks not written yet")
    plan = make_plan(cfg, sources.load_all(cfg, tmp_path), base(user="1000:1000"))
    assert sorted(b.descriptor.id for b in plan.buildpacks) == sorted(IDS)
    assert plan.warnings == ()
