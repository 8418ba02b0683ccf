"""A buildpack written with the SDK (the README's "Write your own buildpack (SDK)" example, plus
a second buildpack using its build layer) run by our detector, builder and launcher on the host:
plan resolution, a build layer's env for later buildpacks, reuse, and launch-time env files,
exec.d and the process. No network."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from lifecycle.phases.build import BuildInputs, build
from lifecycle.phases.detect import DetectorInputs, detect
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.sandbox import HostRunner

REPO = Path(__file__).resolve().parents[3]

PRELUDE = '''#!/usr/bin/env python3
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
'''

BUILDPACK_TOML = '''api = "0.12"

[buildpack]
id = "example/greeter"
version = "0.1.0"

[[targets]]
os = "linux"
'''

DETECT = PRELUDE + '''
from lifecycle.sdk import DetectContext, detect


def main(ctx: DetectContext) -> None:
    if not ctx.app_file("greeting.txt").is_file():
        ctx.fail("no greeting.txt")
    ctx.provide("greeter")
    ctx.require("greeter", {"style": "loud"})


if __name__ == "__main__":
    detect(main)
'''

BUILD = PRELUDE + '''
import hashlib

from lifecycle.sdk import BuildContext, build


def main(ctx: BuildContext) -> None:
    [entry] = ctx.entries("greeter")
    text = ctx.app_file("greeting.txt").read_text().strip()
    tools = ctx.layer("tools", launch=True, build=True, cache=True)
    key = hashlib.sha256(text.encode()).hexdigest()
    if tools.reuse_if({"key": key, "style": entry.metadata["style"]}):
        ctx.log.info("Reusing the tools layer")
    else:
        ctx.log.info("Building the tools layer")
        (tools.path / "bin").mkdir()
        hello = tools.path / "bin" / "hello"
        hello.write_text("#!/bin/sh\\necho \\"$GREETING from $SPEAKER, $MOOD ($1)\\"\\n")
        hello.chmod(0o755)
    tools.env.default("GREETING", text.upper())
    tools.launch_env.override("SPEAKER", "the launcher")
    tools.build_env.override("SPEAKER", "the builder")
    tools.exec_d("mood", "#!/bin/sh\\necho 'MOOD = \\"cheerful\\"' >&3\\n")
    ctx.process("web", ["hello"], ["default-arg"], default=True)
    ctx.label("org.example.greeting", text)


if __name__ == "__main__":
    build(main)
'''

USER_BUILD = PRELUDE + '''
from lifecycle.sdk import BuildContext, build


def main(ctx: BuildContext) -> None:
    ctx.run(["hello", "at build"])  # from the greeter's build layer, with its env


if __name__ == "__main__":
    build(main)
'''


def write_buildpack(root: Path, bp_id: str, detect_src: str, build_src: str) -> None:
    bp = root / bp_id.replace("/", "_") / "0.1.0"
    (bp / "bin").mkdir(parents=True)
    (bp / "buildpack.toml").write_text(BUILDPACK_TOML.replace("example/greeter", bp_id))
    for name, src in (("detect", detect_src), ("build", build_src)):
        (bp / "bin" / name).write_text(src)
        (bp / "bin" / name).chmod(0o755)
    (bp / "lib" / "lifecycle").mkdir(parents=True)
    (bp / "lib" / "lifecycle" / "__init__.py").write_text("")
    (bp / "lib" / "lifecycle" / "sdk").symlink_to(REPO / "lifecycle" / "sdk")


def run_build(tmp: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    found = detect(DetectorInputs(
        app_dir=str(tmp / "app"), buildpacks_dir=str(tmp / "bps"),
        platform_dir=str(tmp / "platform"), order_path=str(tmp / "order.toml"), environ=env),
        HostRunner())
    assert [e.id for e in found.group.group] == ["example/greeter", "example/user"]
    out: list[bytes] = []
    md = build(found.group, found.plan, BuildInputs(
        app_dir=str(tmp / "app"), layers_dir=str(tmp / "layers"),
        platform_dir=str(tmp / "platform"), buildpacks_dir=str(tmp / "bps"), environ=env,
        tmp_dir=str(tmp)), HostRunner(), out.append)
    metadata_file.dump(metadata_file.path_in(tmp / "layers"), md)
    return b"".join(out).decode()


def test_sdk_buildpack_through_the_lifecycle(tmp_path: Path) -> None:
    write_buildpack(tmp_path / "bps", "example/greeter", DETECT, BUILD)
    write_buildpack(tmp_path / "bps", "example/user", PRELUDE + "raise SystemExit(0)\n",
                    USER_BUILD)
    (tmp_path / "order.toml").write_text(
        '[[order]]\n[[order.group]]\nid = "example/greeter"\nversion = "0.1.0"\n'
        '[[order.group]]\nid = "example/user"\nversion = "0.1.0"\n')
    for d in ("app", "layers", "platform"):
        (tmp_path / d).mkdir()
    (tmp_path / "app" / "greeting.txt").write_text("hello\n")

    first = run_build(tmp_path)
    assert "Building the tools layer" in first
    assert "HELLO from the builder,  (at build)" in first  # env.build, no exec.d at build
    md = tomllib.loads((tmp_path / "layers" / "config" / "metadata.toml").read_text())
    assert md["labels"] == [{"key": "org.example.greeting", "value": "hello"}]
    [web] = md["processes"]
    assert (web["command"], web["args"]) == (["hello"], ["default-arg"])

    layer_toml = tmp_path / "layers" / "example_greeter" / "tools.toml"
    doc = tomllib.loads(layer_toml.read_text())
    layer_toml.write_text(f'[metadata]\nkey = "{doc["metadata"]["key"]}"\nstyle = "loud"\n')
    assert "Reusing the tools layer" in run_build(tmp_path)

    env = {"PATH": os.environ["PATH"], "CNB_PLATFORM_API": "0.15",
           "CNB_LAYERS_DIR": str(tmp_path / "layers"), "CNB_APP_DIR": str(tmp_path / "app"),
           "CNB_PROCESS_TYPE": "web", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "lifecycle.launch"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "HELLO from the launcher, cheerful (default-arg)\n"
