"""Table tests for the analyzer's pure core: references, run image choice, target, Analyzed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from lifecycle.buildpack.targets import Distro
from lifecycle.errors import AnalyzeError, UsageError
from lifecycle.oci.config import ConfigFile, RunConfig
from lifecycle.phases.analyze import (
    FetchedImage,
    build_analyzed,
    choose_run_image,
    make_request,
    previous_metadata,
    run_image_candidates,
    target_of,
)
from lifecycle.platform import labels
from lifecycle.platform.files.analyzed import TargetMetadata
from lifecycle.platform.files.run import Run, RunImageEntry

TOP = "sha256:" + "a" * 64
APP = "sha256:" + "b" * 64
OUT = "out.example"


def _run(*entries: tuple[str, tuple[str, ...]]) -> Run:
    return Run(tuple(RunImageEntry(i, m) for i, m in entries))


RUN = _run(("hub.example/run:1", ("mirror.example/run:1", "out.example/run:1")),
           ("other.example/run:2", ()))


@pytest.mark.parametrize(("run", "readable", "expected"), [
    # an image or mirror on the output registry wins when readable
    (RUN, {"hub.example/run:1", "mirror.example/run:1", "out.example/run:1"},
     "out.example/run:1"),
    # ... else the first readable name, in run.toml order
    (RUN, {"hub.example/run:1", "mirror.example/run:1"}, "hub.example/run:1"),
    (RUN, {"mirror.example/run:1", "other.example/run:2"}, "mirror.example/run:1"),
    (RUN, {"other.example/run:2"}, "other.example/run:2"),
    # nothing readable, or nothing listed
    (RUN, set(), None),
    (Run(), {"out.example/run:1"}, None),
    # the output registry's image itself
    (_run(("out.example/a:1", ("hub.example/a:1",))), {"out.example/a:1", "hub.example/a:1"},
     "out.example/a:1"),
    # same-registry name unreadable: falls back to another registry
    (_run(("out.example/a:1", ("hub.example/a:1",))), {"hub.example/a:1"}, "hub.example/a:1"),
])
def test_choose_run_image(run: Run, readable: set[str], expected: str | None) -> None:
    asked: list[str] = []

    def ok(name: str) -> bool:
        asked.append(name)
        return name in readable

    assert choose_run_image(run, OUT, ok) == expected
    assert len(asked) == len(set(asked))  # each name checked at most once


def test_candidates_keep_order_without_repeats() -> None:
    run = _run(("a.example/r:1", ("b.example/r:1",)), ("b.example/r:1", ()))
    assert run_image_candidates(run) == ("a.example/r:1", "b.example/r:1")


@pytest.mark.parametrize("kwargs", [
    {"image": "BAD//x"},
    {"image": "ok.example/app", "tags": ("ok.example/app:Bad Tag",)},
    {"image": "ok.example/app", "previous_image": "x/UP"},
    {"image": "ok.example/app", "run_image": "bad::ref"},
    {"image": "ok.example/app", "cache_image": "x//y"},
    {"image": "ok.example/app", "tags": ("other.example/app:2",)},
    {"image": "ok.example/app", "run": _run(("not a ref", ()))},
])
def test_make_request_rejects_bad_references(kwargs: Mapping[str, Any]) -> None:
    args = dict(kwargs)
    image = args.pop("image")
    with pytest.raises(UsageError):
        make_request(image, **args)


def test_make_request_defaults_previous_to_image() -> None:
    req = make_request("ok.example/app:1", tags=("ok.example/app:2",), run_image="r.example/r")
    assert str(req.previous) == "ok.example/app:1"
    assert req.run_image == "r.example/r"
    req2 = make_request("ok.example/app:1", previous_image="ok.example/old:1")
    assert str(req2.previous) == "ok.example/old:1"


def _config(os: str = "linux", arch: str = "amd64", variant: str | None = None,
            lab: Mapping[str, str] | None = None) -> ConfigFile:
    return ConfigFile(architecture=arch, os=os, variant=variant,
                      config=RunConfig(labels=dict(lab or {})))


@pytest.mark.parametrize(("config", "expected"), [
    (_config(), TargetMetadata(os="linux", arch="amd64")),
    (_config(arch="arm64", variant="v8",
             lab={labels.BASE_DISTRO_NAME: "ubuntu", labels.BASE_DISTRO_VERSION: "22.04",
                  labels.BASE_ID: "io.example.base"}),
     TargetMetadata(os="linux", arch="arm64", arch_variant="v8", id="io.example.base",
                    distro=Distro("ubuntu", "22.04"))),
    (_config(lab={labels.STACK_ID: "io.buildpacks.stacks.bionic"}),
     TargetMetadata(os="linux", arch="amd64", distro=Distro("ubuntu", "18.04"))),
])
def test_target_of(config: ConfigFile, expected: TargetMetadata) -> None:
    assert target_of(config, "run") == expected


def test_target_requires_os() -> None:
    with pytest.raises(AnalyzeError, match="no os"):
        target_of(_config(os=""), "hub.example/run")


def _label() -> str:
    return labels.LifecycleMetadata(
        app=(APP,), run_image=labels.RunImageMetadata(top_layer=TOP, reference="r@" + TOP,
                                                      image="hub.example/run:1")).to_json()


def test_previous_metadata_is_toml_form() -> None:
    md = previous_metadata({labels.LIFECYCLE_METADATA: _label()}, "prev")
    assert md["run-image"]["top-layer"] == TOP
    assert md["app"] == [{"sha": APP}]


@pytest.mark.parametrize("lab", [{}, {labels.LIFECYCLE_METADATA: "{not json"},
                                 {labels.LIFECYCLE_METADATA: '{"app": 3}'}])
def test_previous_metadata_missing_or_corrupt_is_ignored(
        lab: Mapping[str, str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert previous_metadata(lab, "prev") == {}
    assert "prev" in caplog.text


RUN_IMG = FetchedImage("hub.example/run@" + TOP,
                       _config(lab={labels.BASE_DISTRO_NAME: "alpine",
                                    labels.BASE_DISTRO_VERSION: "3.20"}))


@pytest.mark.parametrize(("previous", "expected"), [
    (None, {"run-image": {"reference": "hub.example/run@" + TOP, "image": "hub.example/run:1",
                          "target": {"os": "linux", "arch": "amd64",
                                     "distro": {"name": "alpine", "version": "3.20"}}}}),
    (FetchedImage("out.example/app@" + APP, _config()),
     {"image": {"reference": "out.example/app@" + APP},
      "run-image": {"reference": "hub.example/run@" + TOP, "image": "hub.example/run:1",
                    "target": {"os": "linux", "arch": "amd64",
                               "distro": {"name": "alpine", "version": "3.20"}}}}),
])
def test_build_analyzed(previous: FetchedImage | None, expected: Mapping[str, Any]) -> None:
    assert build_analyzed(previous, "hub.example/run:1", RUN_IMG).to_toml() == expected


def test_build_analyzed_with_metadata() -> None:
    prev = FetchedImage("out.example/app@" + APP,
                        _config(lab={labels.LIFECYCLE_METADATA: _label()}))
    out = build_analyzed(prev, "hub.example/run:1", RUN_IMG).to_toml()
    assert out["image"] == {"reference": "out.example/app@" + APP}
    assert out["metadata"]["run-image"]["top-layer"] == TOP
