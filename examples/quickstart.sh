#!/usr/bin/env bash
# The main job, on a fresh Debian/Ubuntu machine, as root or as a normal user:
#   1. installs the system tools pypack uses (bubblewrap, the faster rootless sandbox: without it
#      pypack uses its own; mmdebstrap and
#      uidmap to make the default stack's base images) when missing (sudo when not root);
#   2. installs pypack from this checkout into a virtualenv (./.venv-quickstart);
#   3. builds examples/python-web with the default builder (the first time this also builds the
#      default stack from Debian packages: a few minutes), with no Docker daemon and no root;
#   4. runs the image with `pypack run`, asks it for its page, and stops it.
# Run it again to see a rebuild that reuses everything.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
port="${PORT:-8080}"

need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v newuidmap >/dev/null || need+=(uidmap)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "==> installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

venv="$here/.venv-quickstart"
if [ ! -x "$venv/bin/pypack" ]; then
  echo "==> installing pypack into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$here"
else  # this checkout may have changed since: install it again (dependencies stay)
  echo "==> updating pypack in $venv"
  "$venv/bin/pip" install -q --no-deps --force-reinstall "$here"
fi
pypack="$venv/bin/pypack"

echo "==> pypack build hello-python --path examples/python-web"
"$pypack" build hello-python --path "$here/examples/python-web"

echo "==> pypack run hello-python (PORT=$port)"
"$pypack" run hello-python --env "PORT=$port" &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
"$venv/bin/python" - "$port" <<'EOF'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/"
for _ in range(120):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            print(f"==> GET {url} -> {r.status}: {r.read().decode().strip()}")
            break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"no answer from {url}")
EOF
