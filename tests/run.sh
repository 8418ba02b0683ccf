#!/usr/bin/env bash
# The test command: installs the system tools the tests use (real registry, OCI validators, podman,
# sandboxes) and the Python test dependencies, then runs ruff, mypy --strict and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(docker-registry apache2-utils skopeo umoci bubblewrap runc podman uidmap busybox-static
          pigz zstd mmdebstrap)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q -e '.[test]'
python3 -m ruff check lifecycle tests bench
python3 -m mypy
rc=0
python3 -m pytest -q -p no:cacheprovider "$@" || rc=$?
# pytest's 5 means "no tests collected": that is a failure for us.
exit "$rc"
