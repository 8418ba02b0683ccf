"""Helpers for the builder image tests: the fixture buildpacks, build images as values,
builder.toml files written on the fly."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

from lifecycle.builder.plan import BaseImage
from lifecycle.oci import mutate
from lifecycle.oci.image import ImageValue, empty_image
from lifecycle.oci.platform import Platform

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "builder" / "create"
ALPHA = TESTDATA / "bp-alpha"
BETA = TESTDATA / "bp-beta"
IDS = {"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1001"}


def build_image(env: Mapping[str, str] | None = None,
                labels: Mapping[str, str] | None = None,
                platform: str = "linux/amd64") -> ImageValue:
    """An empty build image with the CNB ids (``env`` replaces them) and ``labels``."""
    img = empty_image(Platform.parse(platform))
    img = mutate.with_env(img, dict(IDS if env is None else env))
    return mutate.with_labels(img, dict(labels or {}))


def base(labels: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None,
         user: str | None = None, arch: str = "amd64") -> BaseImage:
    """The plan's view of a build image."""
    return BaseImage("example.com/build:1", dict(labels or {}), dict(IDS if env is None else env),
                     user, "linux", arch)


def write_config(tmp: Path, body: str, copy_buildpacks: bool = True) -> Path:
    """``tmp/builder.toml`` holding ``body`` (dedented); the fixture buildpacks are copied
    next to it as ``bp-alpha`` and ``bp-beta`` when ``copy_buildpacks``."""
    if copy_buildpacks:
        for src in (ALPHA, BETA):
            if not (tmp / src.name).exists():
                shutil.copytree(src, tmp / src.name, symlinks=True)
    path = tmp / "builder.toml"
    path.write_text(textwrap.dedent(body))
    return path


TWO_BUILDPACKS = """\
    [[buildpacks]]
    uri = "bp-alpha"

    [[buildpacks]]
    uri = "bp-beta"

    [[order]]
    [[order.group]]
    id = "test/alpha"
    version = "0.0.1"

    [[order.group]]
    id = "test/beta"
    optional = true

    [build]
    image = "example.com/build:1"

    [[run.images]]
    image = "example.com/run:1"
"""
"""A minimal valid builder.toml body with both fixture buildpacks."""
