"""End to end: the ``pypack build`` flags other e2e tests do not reach, each checked by its effect
as a pack user would look for it (issue #6): ``--env-file``/``--env``/project.toml build env and
their precedence, ``--descriptor`` (include/exclude, buildpacks group), ``--tag``,
``--default-process``, ``--creation-time``, ``--output``, ``--run-image``, ``--previous-image``
and ``--timestamps``.

The builder is the small one of test_pypack_build.py (host-made Python build/run image + the
exporter's fixture buildpack ``test/hello``), under names of its own so the two modules do not
disturb each other in one session; a build takes well under a second. Tests that need another
buildpack write one (``_buildpack``) and pass it with ``--buildpack`` or project.toml."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyrootfs_rig import builder_toml, import_stack, python_rootfs

from lifecycle import client

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "testdata" / "exporter"
REPO = Path(__file__).resolve().parents[2]
BUILDER = "test/flags-builder"
RUN_IMAGE = "test/flags-run"
OTHER_RUN_IMAGE = "test/flags-other-run"


def pypack(*args: str, env: Mapping[str, str] | None = None,
           cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lifecycle.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=dict(env or os.environ))


def built(res: subprocess.CompletedProcess[str]) -> str:
    """stdout + stderr of a build that must have succeeded."""
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    return out


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> str:
    import_stack(python_rootfs(tmp_path_factory.mktemp("pyroot")),
                 ("test/flags-build", RUN_IMAGE))
    config = builder_toml(tmp_path_factory.mktemp("builder"),
                          DATA / "buildpacks" / "test_hello" / "0.1.0", "test/hello",
                          "test/flags-build", RUN_IMAGE)
    res = pypack("builder", "create", BUILDER, "--config", str(config))
    assert res.returncode == 0, res.stdout + res.stderr
    return BUILDER


def _buildpack(root: Path, bp_id: str, build: str, launch_toml: str = "") -> Path:
    """A Buildpack API 0.12 buildpack at ``root`` that always detects; ``build`` is the body of
    its ``bin/build`` (busybox sh), ``launch_toml`` goes to ``<layers>/launch.toml``."""
    (root / "bin").mkdir(parents=True)
    (root / "buildpack.toml").write_text(
        f'api = "0.12"\n[buildpack]\nid = "{bp_id}"\nversion = "0.0.1"\n'
        '[[targets]]\nos = "linux"\n')
    (root / "bin" / "detect").write_text("#!/bin/sh\nexit 0\n")
    script = "#!/bin/sh\nset -eu\n" + build
    if launch_toml:
        script += f"\ncat > \"$CNB_LAYERS_DIR/launch.toml\" <<'TOML'\n{launch_toml}TOML\n"
    (root / "bin" / "build").write_text(script)
    for f in ("detect", "build"):
        (root / "bin" / f).chmod(0o755)
    return root


# a process that prints every file under /workspace (relative), one a line, sorted
_LIST_CODE = ("import os; print('\\n'.join(sorted(os.path.relpath(os.path.join(d, f), "
              "'/workspace') for d, _, fs in os.walk('/workspace') for f in fs)))")
_LIST_APP = ('[[processes]]\ntype = "files"\n'
             f'command = ["python3", "-c", {json.dumps(_LIST_CODE)}]\ndefault = true\n')


def _inspect(name: str) -> dict[str, Any]:
    info: dict[str, Any] = client.inspect_image(name, client.Context())
    return info


def _lifecycle_md(name: str) -> dict[str, Any]:
    md: dict[str, Any] = json.loads(_inspect(name)["labels"]["io.buildpacks.lifecycle.metadata"])
    return md


def _app(tmp_path: Path, files: Mapping[str, str]) -> Path:
    app = tmp_path / "app"
    for rel, text in files.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    return app


# --- build-time environment -----------------------------------------------------------------
_ENV_NAMES = ("ONLY_DESC", "FILE_OVER_DESC", "FLAG_OVER_ALL", "ONLY_FILE", "WITH_EQ",
              "FROM_HOST_FILE", "ONLY_FLAG", "FROM_HOST_FLAG", "COMMENTED")


def _env_echo(root: Path) -> Path:
    loop = " ".join(_ENV_NAMES)
    return _buildpack(root, "test/env-echo", (
        f"for k in {loop}; do\n"
        '  eval "v=\\${$k-<unset>}"\n'
        '  echo "ENV $k=$v"\n'
        "done\n"))


def test_env_file_env_and_descriptor_env_reach_the_buildpack(builder: str,
                                                             tmp_path: Path) -> None:
    """Values from project.toml's ``[[io.buildpacks.build.env]]`` (through ``--descriptor``),
    ``--env-file`` (``#`` comments, blank lines, ``K=V`` with ``=`` in V, bare ``K`` from the
    host) and ``--env`` are in the buildpack's environment; precedence as pack: ``--env`` over
    ``--env-file`` over the descriptor."""
    bp = _env_echo(tmp_path / "env-echo")
    app = _app(tmp_path, {"app.py": "print('hi')\n",
                          # ignored: --descriptor names another file
                          "project.toml": '[_]\nschema-version = "0.2"\n'
                                          '[[io.buildpacks.build.env]]\nname = "ONLY_DESC"\n'
                                          'value = "from-app-dir-project-toml"\n'})
    desc = tmp_path / "elsewhere" / "build.toml"
    desc.parent.mkdir()
    desc.write_text('[_]\nschema-version = "0.2"\n'
                    + "".join(f'[[io.buildpacks.build.env]]\nname = "{k}"\nvalue = "desc"\n'
                              for k in ("ONLY_DESC", "FILE_OVER_DESC", "FLAG_OVER_ALL")))
    env_file = tmp_path / "build.env"
    env_file.write_text("# a comment line\n\nONLY_FILE=first-file\nFILE_OVER_DESC=file\n"
                        "  FLAG_OVER_ALL=file\nWITH_EQ=a=b c\nFROM_HOST_FILE\n"
                        "# COMMENTED=yes\n")
    later_file = tmp_path / "later.env"  # a later --env-file wins over an earlier one
    later_file.write_text("ONLY_FILE=file\n")
    host = dict(os.environ, FROM_HOST_FILE="host-file", FROM_HOST_FLAG="host-flag")
    out = built(pypack("build", "flags-env", "--builder", builder, "--path", str(app),
                       "--buildpack", str(bp), "--descriptor", str(desc),
                       "--env-file", str(env_file), "--env-file", str(later_file),
                       "--env", "FLAG_OVER_ALL=flag", "--env", "ONLY_FLAG=flag",
                       "--env", "FROM_HOST_FLAG", env=host))
    seen = {m[1]: m[2] for m in re.finditer(r"^ENV (\w+)=(.*)$", out, re.M)}
    assert seen == {
        "ONLY_DESC": "desc", "FILE_OVER_DESC": "file", "FLAG_OVER_ALL": "flag",
        "ONLY_FILE": "file", "WITH_EQ": "a=b c", "FROM_HOST_FILE": "host-file",
        "ONLY_FLAG": "flag", "FROM_HOST_FLAG": "host-flag", "COMMENTED": "<unset>",
    }, out


def test_project_toml_in_the_app_dir_is_the_default_descriptor(builder: str,
                                                              tmp_path: Path) -> None:
    bp = _env_echo(tmp_path / "env-echo")
    app = _app(tmp_path, {"app.py": "", "project.toml": (
        '[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "ONLY_DESC"\n'
        'value = "in-app"\n')})
    out = built(pypack("build", "flags-env-default", "--builder", builder, "--path", str(app),
                       "--buildpack", str(bp)))
    assert "ENV ONLY_DESC=in-app" in out


# --- --descriptor: include / exclude and the buildpacks group -------------------------------
_APP_FILES = {"app.py": "print('hi')\n", "secret.txt": "s3cr3t\n", "logs/debug.log": "x\n",
              "keep/data.txt": "d\n", "keep/nested/deep.txt": "d\n"}


def _files_in_image(image: str) -> list[str]:
    ran = pypack("run", image)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout.split()


@pytest.mark.parametrize(("rule", "expected"), [
    ('exclude = ["secret.txt", "logs/"]', ["app.py", "keep/data.txt", "keep/nested/deep.txt"]),
    ('include = ["app.py", "keep/nested"]', ["app.py", "keep/nested/deep.txt"]),
])
def test_descriptor_include_exclude_and_group(builder: str, tmp_path: Path, rule: str,
                                              expected: list[str]) -> None:
    """``--descriptor FILE``: its include/exclude select what reaches /workspace (at build time
    and in the image), and its ``[[io.buildpacks.group]]`` (a ``uri`` relative to FILE's
    directory) replaces the builder's order."""
    app = _app(tmp_path, _APP_FILES)
    conf = tmp_path / "conf"
    _buildpack(conf / "bps" / "lister", "test/lister",
               'echo "BUILD-SEES $(ls -R /workspace | tr "\\n" " ")"\n', _LIST_APP)
    desc = conf / "project.toml"
    desc.write_text(f'[_]\nschema-version = "0.2"\n[io.buildpacks]\n{rule}\n'
                    '[[io.buildpacks.group]]\nuri = "bps/lister"\n')
    image = f"flags-desc-{rule.split()[0]}"
    out = built(pypack("build", image, "--builder", builder, "--path", str(app),
                       "--descriptor", str(desc)))
    assert "test/lister" in out and "test/hello" not in out, out
    assert "BUILD-SEES" in out and "secret.txt" not in out.split("BUILD-SEES")[1], out
    assert _files_in_image(image) == expected


# --- --tag ----------------------------------------------------------------------------------
def test_tags_point_at_the_same_digest(builder: str) -> None:
    out = built(pypack("build", "flags-tag", "--builder", builder, "--path", str(DATA / "app"),
                       "--tag", "flags-tag:v1", "-t", "example.com/flags/tagged:v2"))
    digest = out.split("Successfully built image store:flags-tag (")[1].split(")")[0]
    ls = pypack("image", "ls", "--json")
    assert ls.returncode == 0, ls.stderr
    rows = {r["name"]: r["digest"] for r in json.loads(ls.stdout)}
    for name in ("flags-tag:latest", "flags-tag:v1", "example.com/flags/tagged:v2"):
        assert rows.get(name) == digest, (name, rows)


def test_tag_comma_separated_list(builder: str) -> None:
    built(pypack("build", "flags-tag-list", "--builder", builder, "--path", str(DATA / "app"),
                 "--tag", "flags-tag-list:c1,flags-tag-list:c2"))
    store = client.Context().store
    assert store.has("flags-tag-list:c1") and store.has("flags-tag-list:c2")


# --- --default-process ----------------------------------------------------------------------
def test_default_process(builder: str) -> None:
    """The fixture buildpack's processes are ``web`` (its default) and ``tool``."""
    built(pypack("build", "flags-proc", "--builder", builder, "--path", str(DATA / "app"),
                 "--default-process", "tool"))
    assert _inspect("store:flags-proc")["config"]["Entrypoint"] == ["/cnb/process/tool"]
    ran = pypack("run", "flags-proc")
    assert ran.returncode == 0 and "tool says hi" in ran.stdout, ran.stdout + ran.stderr

    built(pypack("build", "flags-proc-web", "--builder", builder, "--path", str(DATA / "app")))
    assert _inspect("store:flags-proc-web")["config"]["Entrypoint"] == ["/cnb/process/web"]


def test_default_process_unknown_type_fails(builder: str) -> None:
    """As the lifecycle's exporter: a default process no buildpack defines is an error."""
    res = pypack("build", "flags-proc-bad", "--builder", builder, "--path", str(DATA / "app"),
                 "--default-process", "nosuch")
    assert res.returncode != 0
    assert "nosuch" in res.stderr


# --- --creation-time ------------------------------------------------------------------------
def test_creation_time(builder: str) -> None:
    built(pypack("build", "flags-time", "--builder", builder, "--path", str(DATA / "app"),
                 "--creation-time", "1700000000"))
    assert _inspect("store:flags-time")["created"] == "2023-11-14T22:13:20Z"

    before = int(time.time())
    built(pypack("build", "flags-time", "--builder", builder, "--path", str(DATA / "app"),
                 "--creation-time", "now"))
    after = int(time.time())
    created = _inspect("store:flags-time")["created"]
    stamp = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp.timestamp() <= after, created

    built(pypack("build", "flags-time", "--builder", builder, "--path", str(DATA / "app")))
    assert _inspect("store:flags-time")["created"] == "1980-01-01T00:00:01Z"


def test_creation_time_invalid_is_a_usage_error(builder: str) -> None:
    res = pypack("build", "flags-time-bad", "--builder", builder, "--path", str(DATA / "app"),
                 "--creation-time", "yesterday")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "--creation-time" in res.stderr


# --- --output -------------------------------------------------------------------------------
def test_output_oci_layout(builder: str, tmp_path: Path) -> None:
    dest = tmp_path / "layout"
    out = built(pypack("build", "flags-out-oci", "--builder", builder, "--path",
                       str(DATA / "app"), "--output", f"oci:{dest}", "-t", "v2"))
    assert not client.Context().store.has("flags-out-oci")
    index = json.loads((dest / "index.json").read_text())
    refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
            for m in index["manifests"]}
    digest = out.split(f"Successfully built image oci:{dest} (")[1].split(")")[0]
    assert refs == {"latest": digest, "v2": digest}
    if shutil.which("umoci"):
        res = subprocess.run(["umoci", "stat", "--image", f"{dest}:latest", "--json"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
    if shutil.which("skopeo"):
        res = subprocess.run(["skopeo", "inspect", f"oci:{dest}:v2"], capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["Labels"]["org.example.hello"] == "yes"
    ran = pypack("run", f"oci:{dest}")
    assert "app says: hello from a layer" in ran.stdout, ran.stdout + ran.stderr


def _archive_manifest(path: Path) -> list[dict[str, Any]]:
    with tarfile.open(path) as tf:
        f = tf.extractfile("manifest.json")
        assert f is not None
        manifest: list[dict[str, Any]] = json.load(f)
    return manifest


def test_output_docker_archive(builder: str, tmp_path: Path) -> None:
    dest = tmp_path / "app.tar"
    built(pypack("build", "flags-out-tar", "--builder", builder, "--path", str(DATA / "app"),
                 "--output", f"docker-archive:{dest}:flags-out-tar:v1"))
    assert not client.Context().store.has("flags-out-tar")
    assert _archive_manifest(dest)[0]["RepoTags"] == ["flags-out-tar:v1"]
    if shutil.which("skopeo"):
        res = subprocess.run(["skopeo", "inspect", f"docker-archive:{dest}"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["Labels"]["org.example.hello"] == "yes"


def test_output_docker_archive_is_named_image(builder: str, tmp_path: Path) -> None:
    dest = tmp_path / "app.tar"
    built(pypack("build", "flags-out-named", "--builder", builder, "--path", str(DATA / "app"),
                 "--output", f"docker-archive:{dest}"))
    tags = _archive_manifest(dest)[0]["RepoTags"]
    assert any(t.endswith("flags-out-named:latest") for t in tags), tags


# --- --run-image ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def other_run_image(builder: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The builder's run image plus a layer and a label of its own."""
    root = tmp_path_factory.mktemp("other-run")
    (root / "etc").mkdir()
    (root / "etc" / "other-run").write_text("other\n")
    client.import_image(client.ImportOptions(
        rootfs=str(root), dest=f"store:{OTHER_RUN_IMAGE}", base=f"store:{RUN_IMAGE}",
        labels={"org.example.run": "other"}), client.Context())
    return OTHER_RUN_IMAGE


@pytest.mark.parametrize("ref", [OTHER_RUN_IMAGE, f"store:{OTHER_RUN_IMAGE}"])
def test_run_image(builder: str, other_run_image: str, ref: str) -> None:
    image = "flags-run-" + ref.split(":")[0].replace("/", "-")
    built(pypack("build", image, "--builder", builder, "--path", str(DATA / "app"),
                 "--run-image", ref))
    info = _inspect(f"store:{image}")
    assert info["labels"]["org.example.run"] == "other"
    run = _inspect(f"store:{other_run_image}")
    assert info["layers"][:len(run["layers"])] == run["layers"]
    md = _lifecycle_md(f"store:{image}")["runImage"]
    assert md["topLayer"] == run["layers"][-1]["diffID"]
    assert other_run_image in md["reference"] and other_run_image in md["image"], md
    ran = pypack("run", image)
    assert "app says: hello from a layer" in ran.stdout, ran.stdout + ran.stderr


# --- --previous-image -----------------------------------------------------------------------
def _keep_buildpack(root: Path) -> Path:
    """A launch-only layer ``keep`` (not cached), rebuilt with fresh bytes unless the previous
    image's metadata for it is restored, then reused from that image as the spec allows."""
    return _buildpack(root, "test/keep", (
        'L="$CNB_LAYERS_DIR"\n'
        "if [ -f \"$L/keep.toml\" ] && grep -q 'stamp = \"s1\"' \"$L/keep.toml\"; then\n"
        '  echo "keep: reusing the previous image\'s layer"\n'
        "else\n"
        '  echo "keep: building"\n'
        '  mkdir -p "$L/keep"\n'
        "  python3 -c 'import uuid; print(uuid.uuid4())' > \"$L/keep/nonce\"\n"
        "fi\n"
        "printf '[types]\\nlaunch = true\\n[metadata]\\nstamp = \"s1\"\\n' > \"$L/keep.toml\"\n"))


def _keep_sha(image: str) -> str:
    bps = _lifecycle_md(image)["buildpacks"]
    sha: str = next(b for b in bps if b["key"] == "test/keep")["layers"]["keep"]["sha"]
    return sha


def test_previous_image(builder: str, tmp_path: Path) -> None:
    store = client.Context().store
    for name in ("flags-prev-a", "flags-prev-b", "flags-prev-c"):  # PYPACK_HOME may be reused
        if store.has(name):
            store.remove(name)
    bp = _keep_buildpack(tmp_path / "keep")
    common = ("--builder", builder, "--path", str(DATA / "app"), "--buildpack", str(bp))
    first = built(pypack("build", "flags-prev-a", *common))
    assert "keep: building" in first
    sha = _keep_sha("store:flags-prev-a")

    second = built(pypack("build", "flags-prev-b", *common, "--previous-image", "flags-prev-a"))
    assert "keep: reusing the previous image's layer" in second, second
    assert re.search(r"^reused\s+test/keep:keep", second, re.M), second
    assert _keep_sha("store:flags-prev-b") == sha

    # without the flag, flags-prev-c has no previous image: the layer is made anew
    third = built(pypack("build", "flags-prev-c", *common))
    assert "keep: building" in third
    assert _keep_sha("store:flags-prev-c") != sha


# --- --timestamps ---------------------------------------------------------------------------
def test_timestamps(builder: str) -> None:
    stamp = r"^\[\s*\d+\.\d+s\] "
    res = pypack("build", "flags-ts", "--builder", builder, "--path", str(DATA / "app"),
                 "--timestamps")
    out = built(res)
    assert re.search(stamp + r"===> BUILDING$", out, re.M), out
    assert re.search(stamp + r"===> EXPORTING$", out, re.M), out
    # the buildpack's own output too, as pack stamps every line
    assert re.search(stamp + r"deps: (building|reusing cached layer)$", out, re.M), out

    plain = built(pypack("build", "flags-ts", "--builder", builder, "--path",
                         str(DATA / "app")))
    assert not re.search(r"^\[\s*\d+\.\d+s\]", plain, re.M), plain
