"""The files ``pypack buildpack new`` writes, as text with ``__TOKEN__`` placeholders.

A working buildpack (buildpack.md, Buildpack API 0.7-0.12): ``bin/detect`` passes when the app
has a ``run.sh``; ``bin/build`` contributes a cached launch layer ``greeting`` (a ``greet``
program on ``PATH`` and ``GREETING`` defaulting to ``Hello``), reused while its metadata
``version`` is unchanged, and declares the default ``web`` process ``bash run.sh``. In bash
(``--lang bash``, as pack's scaffold) or in Python on ``lifecycle.sdk`` (``--lang python``).
``test.sh`` runs both programs on ``sample-app/`` as a lifecycle would.
"""

from __future__ import annotations

BASH_DETECT = """\
#!/usr/bin/env bash
# bin/detect of __ID__: passes (exit 0) when the app has a run.sh, else fails (exit 100).
# The working directory is the app. Buildpack API: buildpack.md "Detection".
set -euo pipefail

if [[ ! -f run.sh ]]; then
  echo "no run.sh in the app"
  exit 100
fi
echo "found run.sh"
"""

BASH_BUILD = """\
#!/usr/bin/env bash
# bin/build of __ID__: a cached launch layer "greeting" with bin/greet and GREETING,
# and the default process "web" running run.sh. Buildpack API: buildpack.md "Build".
set -euo pipefail

layers_dir="${CNB_LAYERS_DIR:-$1}"
layer_version="1"   # change it to rebuild the layer

echo "---> __NAME__"
layer="$layers_dir/greeting"
wanted="version = \\"$layer_version\\""
if [[ -d "$layer" && -f "$layer.toml" ]] && grep -qx "$wanted" "$layer.toml"; then
  echo "     Reusing layer 'greeting'"
else
  echo "     Creating layer 'greeting'"
  rm -rf "$layer"
  mkdir -p "$layer/bin" "$layer/env.launch"
  cat > "$layer/bin/greet" <<'EOF'
#!/usr/bin/env bash
echo "${GREETING:-Hello}, $*"
EOF
  chmod 755 "$layer/bin/greet"
  printf 'Hello' > "$layer/env.launch/GREETING.default"
fi

cat > "$layer.toml" <<EOF
[types]
launch = true
cache = true

[metadata]
version = "$layer_version"
EOF

cat > "$layers_dir/launch.toml" <<'EOF'
__PROCESS__
EOF
"""

PROCESS_ARRAY = """\
[[processes]]
type = "web"
command = ["bash", "run.sh"]
default = true"""
"""Buildpack API 0.9+: ``command`` is an array."""

PROCESS_LEGACY = """\
[[processes]]
type = "web"
command = "bash"
args = ["run.sh"]
direct = true
default = true"""
"""Buildpack API 0.7-0.8: ``command`` is a string."""

PY_HEADER = """\
#!/usr/bin/env python3
\"\"\"__DOC__\"\"\"

from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))  # vendored SDK

"""

PY_DETECT = PY_HEADER.replace(
    "__DOC__", "bin/detect of __ID__: passes when the app has a run.sh.") + """\
from lifecycle.sdk import DetectContext, detect  # noqa: E402


def main(ctx: DetectContext) -> None:
    if not ctx.app_file("run.sh").is_file():
        ctx.fail("no run.sh in the app")
    ctx.log.info("found run.sh")


if __name__ == "__main__":
    detect(main)
"""

PY_BUILD = PY_HEADER.replace(
    "__DOC__", "bin/build of __ID__: a cached launch layer 'greeting' with bin/greet and "
               "GREETING,\nand the default process 'web' running run.sh.") + """\
from lifecycle.sdk import BuildContext, build  # noqa: E402

LAYER_VERSION = "1"  # change it to rebuild the layer
GREET = '#!/usr/bin/env bash\\necho "${GREETING:-Hello}, $*"\\n'


def main(ctx: BuildContext) -> None:
    ctx.log.info("---> __NAME__")
    layer = ctx.layer("greeting", launch=True, cache=True)
    if layer.reuse_if({"version": LAYER_VERSION}):
        ctx.log.info("     Reusing layer 'greeting'")
    else:
        ctx.log.info("     Creating layer 'greeting'")
        greet = layer.path / "bin" / "greet"
        greet.parent.mkdir(parents=True)
        greet.write_text(GREET)
        greet.chmod(0o755)
        layer.launch_env.default("GREETING", "Hello")
    ctx.process("web", ["bash", "run.sh"], default=True)


if __name__ == "__main__":
    build(main)
"""

SAMPLE_RUN = """\
#!/usr/bin/env bash
# The sample app: __ID__ detects it by this file and runs it as the "web" process.
exec greet "world"
"""

TEST_SH = """\
#!/usr/bin/env bash
# Runs bin/detect and bin/build of __ID__ on sample-app/ the way a CNB lifecycle does
# (Buildpack API environment: CNB_* variables, the app as working directory), builds twice to
# see the layer reused, then runs the app with the layer's bin/ on PATH. Prints PASS or fails.
set -euo pipefail

bp="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$bp/sample-app" "$work/app"
layers="$work/layers/__ESCAPED_ID__"
mkdir -p "$work/platform/env" "$layers"
: > "$work/plan.toml"
export CNB_BUILDPACK_DIR="$bp" CNB_PLATFORM_DIR="$work/platform"
cd "$work/app"

plan="$work/build-plan.toml"
CNB_BUILD_PLAN_PATH="$plan" "$bp/bin/detect" "$work/platform" "$plan"
for round in 1 2; do
  CNB_LAYERS_DIR="$layers" CNB_BP_PLAN_PATH="$work/plan.toml" \\
    "$bp/bin/build" "$layers" "$work/platform" "$work/plan.toml" | tee "$work/build-$round.log"
done
grep -q 'type = "web"' "$layers/launch.toml"
grep -q "Reusing layer 'greeting'" "$work/build-2.log"
greeting="$(cat "$layers/greeting/env.launch/GREETING.default")"
out="$(PATH="$layers/greeting/bin:$PATH" GREETING="$greeting" bash run.sh)"
[[ "$out" == "Hello, world" ]] || { echo "unexpected output: $out"; exit 1; }
echo "PASS"
"""

PACKAGE_TOML = """\
# `pypack buildpack package __DIRNAME__ --config package.toml` packages this buildpack.
[buildpack]
uri = "."
"""

README = """\
# __NAME__ (`__ID__`)

A Cloud Native Buildpack (Buildpack API __API__) made by `pypack buildpack new` (__LANG__).

- `bin/detect` passes when the app has a `run.sh`.
- `bin/build` contributes the launch layer `greeting` (a `greet` program on `PATH` and
  `GREETING=Hello` unless set), kept in the cache and reused while its `version` metadata is
  unchanged, and declares the default process `web`: `bash run.sh`.
__SDK__
## Try it

```sh
./test.sh                                   # detect + build on sample-app/, twice
pypack buildpack package __DIRNAME__ --config package.toml   # a buildpackage in the local store
pypack buildpack package __DIRNAME__.cnb --config package.toml --format file
pypack buildpack inspect __DIRNAME__
```

Use it in a builder (`builder.toml`: `[[buildpacks]] uri = "<this directory>"` or the package
name) or with `pypack build --buildpack <this directory or the package>`.

## Layout

```
buildpack.toml     id, version, API, targets
bin/detect         exit 0: applies, 100: does not
bin/build          writes layers and launch.toml into $CNB_LAYERS_DIR
package.toml       pack's buildpackage config
sample-app/        an app this buildpack builds
test.sh            runs detect and build on sample-app/
```
"""

README_SDK = """
`bin/*` are Python programs on pypack's buildpack SDK (`lifecycle.sdk`, standard library only),
vendored as a copy in `lib/lifecycle/sdk/`: the build image needs `python3` (3.11+).
"""
