"""Labels (cnb-digest §4.3-4.5), cache metadata (§4.8), report.toml and project-metadata.toml:
round trips, Go lifecycle key names, determinism, schema errors that name the source and key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import tomli_w

from lifecycle.cache.metadata import CacheMetadata, Fingerprint, layer_key
from lifecycle.errors import FileFormatError, RebaseError, RestoreError
from lifecycle.platform import labels
from lifecycle.platform.files import project_metadata, report
from lifecycle.platform.labels import (
    BuildpackLayersMetadata,
    LayerMetadata,
    LifecycleMetadata,
    RunImageMetadata,
)
from lifecycle.platform.labels_build import (
    BuildMetadata,
    BuildpackRef,
    LauncherMetadata,
    ProcessMetadata,
    ProjectMetadata,
    ProjectSource,
)

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "restore"
SHA = "sha256:" + "ab" * 32


def sample_lifecycle() -> LifecycleMetadata:
    run = RunImageMetadata(top_layer=SHA, reference="r@" + SHA, image="run:1", mirrors=("m:1",))
    return LifecycleMetadata(
        app=(SHA, SHA), sbom=SHA, config=SHA, launcher=SHA, process_types=SHA,
        buildpacks=(
            BuildpackLayersMetadata(
                key="a/b", version="1.0",
                layers={"l1": LayerMetadata(SHA, {"k": [1, 2], "t": {"x": "y"}}, launch=True),
                        "l0": LayerMetadata(SHA, {}, build=True, launch=True, cache=True)},
                store={"n": 1}),
            BuildpackLayersMetadata(key="c", version="2"),
        ),
        run_image=run, stack=RunImageMetadata(image="run:1", mirrors=("m:1",)),
        exec_env="production",
    )


# --- names --------------------------------------------------------------------------------------
def test_label_names() -> None:
    assert labels.LIFECYCLE_METADATA == "io.buildpacks.lifecycle.metadata"
    assert labels.BUILD_METADATA == "io.buildpacks.build.metadata"
    assert labels.PROJECT_METADATA == "io.buildpacks.project.metadata"
    assert labels.REBASABLE == "io.buildpacks.rebasable"
    assert labels.EXEC_ENV == "io.buildpacks.exec-env"
    assert labels.CACHE_METADATA == "io.buildpacks.lifecycle.cache.metadata"
    assert labels.BASE_DISTRO_NAME == "io.buildpacks.base.distro.name"
    assert labels.STACK_MIXINS == "io.buildpacks.stack.mixins"
    assert labels.is_base_label(labels.BASE_ID) and labels.is_base_label(labels.STACK_ID)
    assert not labels.is_base_label(labels.LIFECYCLE_METADATA)


# --- lifecycle metadata -------------------------------------------------------------------------
def test_lifecycle_round_trip_and_determinism() -> None:
    md = sample_lifecycle()
    text = md.to_json()
    assert LifecycleMetadata.from_json(text) == md
    assert LifecycleMetadata.from_json(text.encode()).to_json() == text
    assert " " not in text
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_lifecycle_go_key_names() -> None:
    d = json.loads(sample_lifecycle().to_json())
    assert set(d) == {"app", "sbom", "config", "launcher", "process-types", "buildpacks",
                      "runImage", "stack", "exec-env"}
    assert d["runImage"] == {"topLayer": SHA, "reference": "r@" + SHA, "image": "run:1",
                             "mirrors": ["m:1"]}
    assert d["stack"] == {"runImage": {"image": "run:1", "mirrors": ["m:1"]}}
    assert d["app"] == [{"sha": SHA}, {"sha": SHA}]
    bp = d["buildpacks"][0]
    assert set(bp) == {"key", "version", "layers", "store"}
    assert bp["store"] == {"metadata": {"n": 1}}
    assert bp["layers"]["l0"] == {"sha": SHA, "data": {}, "build": True, "launch": True,
                                  "cache": True}
    assert "store" not in d["buildpacks"][1]


def test_lifecycle_minimal_omits_optional_keys() -> None:
    d = json.loads(LifecycleMetadata().to_json())
    assert d == {"app": [], "buildpacks": [], "config": {"sha": ""}, "launcher": {"sha": ""},
                 "process-types": {"sha": ""}, "runImage": {"topLayer": "", "reference": ""}}


def test_reads_go_written_label() -> None:
    md = LifecycleMetadata.from_json((TESTDATA / "go-lifecycle-metadata.json").read_text())
    assert md.app == ("sha256:" + "1" * 64,)
    assert md.sbom == "sha256:" + "2" * 64
    assert md.process_types == "sha256:" + "7" * 64
    assert md.run_image.top_layer == "sha256:" + "8" * 64
    assert md.run_image.mirrors == ("mirror.example/run:jammy",)
    assert md.stack == RunImageMetadata(image="registry.example/run:jammy",
                                        mirrors=("mirror.example/run:jammy",))
    node = md.buildpack("example/node")
    assert node is not None and node.id == "example/node"
    assert node.store == {"runs": 3}
    assert node.layers["node"] == LayerMetadata("sha256:" + "3" * 64, {"version": "20.1.0"},
                                                launch=True, cache=True)
    assert node.layers["modules"].data == {}          # Go writes null for no [metadata]
    assert md.buildpack("nope") is None
    assert md.exec_env is None


def test_unknown_keys_from_newer_lifecycles_are_ignored() -> None:
    md = LifecycleMetadata.from_json('{"future": 1, "runImage": {"topLayer": "x", "new": 2}}')
    assert md.run_image.top_layer == "x"


def test_lifecycle_toml_form_uses_go_toml_keys() -> None:
    md = sample_lifecycle()
    t = md.to_toml()
    assert "run-image" in t and "runImage" not in t
    assert t["run-image"]["top-layer"] == SHA
    assert t["stack"] == {"run-image": {"image": "run:1", "mirrors": ["m:1"]}}
    assert t["buildpacks"][0]["layers"]["l1"]["metadata"] == {"k": [1, 2], "t": {"x": "y"}}
    assert "data" not in t["buildpacks"][0]["layers"]["l1"]
    assert t["buildpacks"][0]["store"] == {"metadata": {"n": 1}}
    back = tomllib.loads(tomli_w.dumps({"metadata": t}))["metadata"]
    assert LifecycleMetadata.from_toml(back) == md


@pytest.mark.parametrize(("doc", "where"), [
    ('{"buildpacks": [{"version": "1"}]}', "buildpacks[0]"),
    ('{"buildpacks": [{"key": "a", "layers": {"l": {"launch": "yes"}}}]}',
     "buildpacks[0].layers.l.launch"),
    ('{"runImage": {"topLayer": 5}}', "runImage.topLayer"),
    ('{"app": [{"sha": 1}]}', "app[0].sha"),
    ('{"exec-env": []}', "exec-env"),
])
def test_schema_errors_name_source_and_key(doc: str, where: str) -> None:
    source = "image registry.example/app:1: label io.buildpacks.lifecycle.metadata"
    with pytest.raises(FileFormatError) as err:
        LifecycleMetadata.from_json(doc, source=source)
    assert str(err.value).startswith(source + ": " + where)


def test_invalid_json_and_non_object() -> None:
    with pytest.raises(RebaseError, match="img: label x: invalid JSON"):
        LifecycleMetadata.from_json("{", source="img: label x", error=RebaseError)
    with pytest.raises(FileFormatError, match="want a JSON object"):
        LifecycleMetadata.from_json("[]")


def test_toml_errors_carry_caller_error_class() -> None:
    with pytest.raises(RestoreError, match=r"analyzed.toml \[metadata\]: buildpacks\[0\]"):
        LifecycleMetadata.from_toml({"buildpacks": [{}]}, error=RestoreError)


# --- build metadata -----------------------------------------------------------------------------
def test_build_metadata_round_trip_and_keys() -> None:
    bm = BuildMetadata(
        processes=(ProcessMetadata("web", ("node", "s.js"), ("--x",), True, "/w", "a/b",
                                   ("production",)),
                   ProcessMetadata("task", ("run",), buildpack_id="a/b")),
        buildpacks=(BuildpackRef("a/b", "1", "https://h", "0.12"),),
        extensions=(BuildpackRef("ext", "2", api="0.12"),),
        launcher=LauncherMetadata("0.1", "github.com/x/pypack", "deadbeef"),
        default_process_type="web")
    text = bm.to_json()
    assert BuildMetadata.from_json(text) == bm
    d = json.loads(text)
    assert d["processes"][0] == {"type": "web", "command": ["node", "s.js"], "args": ["--x"],
                                 "direct": True, "working-dir": "/w", "buildpackID": "a/b",
                                 "exec-env": ["production"]}
    assert d["processes"][1] == {"type": "task", "command": ["run"], "args": [],
                                 "direct": True, "buildpackID": "a/b"}
    assert d["buildpacks"] == [{"id": "a/b", "version": "1", "homepage": "https://h",
                                "api": "0.12"}]
    assert d["launcher"] == {"version": "0.1", "source": {"git": {
        "repository": "github.com/x/pypack", "commit": "deadbeef"}}}
    assert d["buildpack-default-process-type"] == "web"


def test_build_metadata_minimal_omits_optional_keys() -> None:
    d = json.loads(BuildMetadata().to_json())
    assert set(d) == {"processes", "buildpacks", "launcher"}


def test_build_metadata_reads_go_label() -> None:
    bm = BuildMetadata.from_json((TESTDATA / "go-build-metadata.json").read_text())
    assert bm.default_process_type == "web"
    assert bm.buildpacks == (BuildpackRef("example/node", "1.2.3", "https://example.com/node"),)
    web, legacy = bm.processes
    assert web.command == ("node", "server.js") and web.args == ("--port", "8080")
    assert legacy.command == ("echo hi",) and legacy.args == () and not legacy.direct
    assert legacy.working_dir == "/workspace/sub" and legacy.buildpack_id == "example/old"
    assert bm.launcher.commit == "abc123"


def test_build_metadata_schema_error() -> None:
    with pytest.raises(FileFormatError, match=r"^lbl: processes\[0\]: 'type' is a required"):
        BuildMetadata.from_json('{"processes": [{"command": []}]}', source="lbl")


# --- project metadata ---------------------------------------------------------------------------
def test_project_metadata_empty_is_braces() -> None:
    assert ProjectMetadata().to_json() == "{}"
    assert ProjectMetadata.from_json("{}") == ProjectMetadata()


def test_project_metadata_round_trip() -> None:
    pm = ProjectMetadata(ProjectSource("git", {"commit": "abc"}, {"repository": "r", "n": 1}))
    assert json.loads(pm.to_json()) == {"source": {"type": "git", "version": {"commit": "abc"},
                                                   "metadata": {"repository": "r", "n": 1}}}
    assert ProjectMetadata.from_json(pm.to_json()) == pm
    assert json.loads(ProjectMetadata(ProjectSource()).to_json()) == {"source": {}}


def test_project_metadata_file(tmp_path: Path) -> None:
    path = tmp_path / "project-metadata.toml"
    assert project_metadata.load(path) == ProjectMetadata()
    with pytest.raises(FileFormatError, match="file not found"):
        project_metadata.load(path, missing_ok=False)
    path.write_text('[source]\ntype = "git"\n[source.version]\ncommit = "abc"\n')
    pm = project_metadata.load(path)
    assert pm.source == ProjectSource("git", {"commit": "abc"}, {})
    project_metadata.dump(tmp_path / "out.toml", pm)
    assert project_metadata.load(tmp_path / "out.toml") == pm
    path.write_text('[source]\nkind = "git"\n')
    with pytest.raises(FileFormatError, match=r"project-metadata.toml: source: .*'kind'"):
        project_metadata.load(path)


# --- report.toml --------------------------------------------------------------------------------
def test_report_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "report.toml"
    rep = report.Report(report.ImageReport(("a:1", "a:2"), "sha256:" + "1" * 64, None, 1234))
    report.dump(path, rep)
    assert tomllib.loads(path.read_text()) == {"image": {
        "tags": ["a:1", "a:2"], "digest": "sha256:" + "1" * 64, "manifest-size": 1234}}
    assert report.load(path) == rep


def test_report_reads_spec_example_and_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "report.toml"
    path.write_text('[image]\ntags = []\nimage-id = "abc"\nmanifest-size = "12"\n'
                    '[build]\nbom = []\n')
    assert report.load(path).image == report.ImageReport((), None, "abc", 12)
    path.write_text('[image]\ntags = []\nsize = 1\n')
    with pytest.raises(FileFormatError, match=r"report.toml: image: .*'size'"):
        report.load(path)


# --- cache metadata -----------------------------------------------------------------------------
def test_cache_metadata_round_trip_with_fingerprints() -> None:
    cm = CacheMetadata(
        sbom=SHA,
        buildpacks=(BuildpackLayersMetadata("a/b", "1", {"l": LayerMetadata(SHA, {"x": 1},
                                                                             cache=True)}),),
        fingerprints={layer_key("a/b", "l"): Fingerprint("fp-1", SHA)})
    text = cm.to_json()
    d = json.loads(text)
    assert d["pypack.fingerprints"] == {"a/b:l": {"fingerprint": "fp-1", "sha": SHA}}
    assert d["sbom"] == {"sha": SHA}
    assert CacheMetadata.from_json(text) == cm
    assert cm.fingerprint("a/b:l") == Fingerprint("fp-1", SHA)
    assert cm.diff_ids() == frozenset({SHA})


def test_cache_metadata_empty_and_go_file() -> None:
    assert json.loads(CacheMetadata().to_json()) == {"sbom": {"sha": ""}, "buildpacks": []}
    cm = CacheMetadata.from_json((TESTDATA / "go-cache-metadata.json").read_text())
    assert cm.sbom is None
    node = cm.buildpack("example/node")
    assert node is not None and set(node.layers) == {"node", "npm-cache"}
    assert cm.fingerprints == {}
    with pytest.raises(FileFormatError, match=r"pypack.fingerprints.k: 'sha' is a required"):
        CacheMetadata.from_json('{"pypack.fingerprints": {"k": {"fingerprint": "f"}}}')
