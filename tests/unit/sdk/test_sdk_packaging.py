"""The SDK runs with the standard library alone, through each bundled buildpack's
``lib/lifecycle`` shim (empty ``__init__.py`` + relative ``sdk`` link), and Procfiles parse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.sdk import SdkError, procfile

REPO = Path(__file__).resolve().parents[3]
BUNDLED = ("python", "nodejs", "procfile")

PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import lifecycle, lifecycle.sdk, lifecycle.sdk.procfile
assert lifecycle.__file__ == sys.argv[1] + "/lifecycle/__init__.py", lifecycle.__file__
ours = sorted(m for m in sys.modules if m == "lifecycle" or m.startswith("lifecycle."))
assert all(m == "lifecycle" or m.startswith("lifecycle.sdk") for m in ours), ours
foreign = sorted(m.split(".")[0] for m in sys.modules
                 if m.split(".")[0] not in sys.stdlib_module_names
                 and m.split(".")[0] not in ("lifecycle", "__main__", "__mp_main__"))
assert not foreign, foreign
print("ok", len(ours))
"""


@pytest.mark.parametrize("bp", BUNDLED)
def test_shim_link_is_relative_and_resolves_to_the_sdk(bp: str) -> None:
    lib = REPO / "buildpacks" / bp / "lib" / "lifecycle"
    assert (lib / "__init__.py").read_text() == ""
    assert os.readlink(lib / "sdk") == "../../../../lifecycle/sdk"
    assert (lib / "sdk").resolve() == REPO / "lifecycle" / "sdk"


@pytest.mark.parametrize("bp", BUNDLED)
def test_sdk_imports_with_the_standard_library_only(bp: str) -> None:
    lib = str(REPO / "buildpacks" / bp / "lib")
    proc = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", PROBE, lib],
                          capture_output=True, text=True, check=False, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok")


@pytest.mark.parametrize("bp", BUNDLED)
def test_bundled_programs_are_executable_python(bp: str) -> None:
    for prog in ("detect", "build"):
        path = REPO / "buildpacks" / bp / "bin" / prog
        assert os.access(path, os.X_OK)
        assert path.read_text().startswith("#!/usr/bin/env python3\n")


def test_procfile_parse() -> None:
    text = "# comment\n\nweb: python3 -m http.server $PORT\nworker:run --x=1:2  \n" \
           "release.v2 : echo ok\n"
    assert procfile.parse(text) == {"web": "python3 -m http.server $PORT",
                                    "worker": "run --x=1:2", "release.v2": "echo ok"}
    assert procfile.default_type({"worker": "a", "web": "b"}) == "web"
    assert procfile.default_type({"worker": "a", "clock": "b"}) == "worker"
    assert procfile.default_type({}) is None
    assert procfile.command("a && b") == ("bash", "-c", "a && b")


@pytest.mark.parametrize("text", ["web python app.py\n", "web:\n", "bad type: x\n",
                                  "web: a\nweb: b\n"])
def test_procfile_errors_name_the_line(text: str) -> None:
    with pytest.raises(SdkError, match=r"Procfile:\d"):
        procfile.parse(text)


def test_procfile_load_missing(tmp_path: Path) -> None:
    assert procfile.load(tmp_path / "Procfile") == {}
