#!/usr/bin/env bash
# The main job until `pypack build` lands: make a small image from a busybox root filesystem
# with no daemon and no root privileges needed by pypack itself, write it to an OCI layout and a
# docker-archive, and show it. Needs /usr/bin/busybox (Debian: busybox-static; installed here
# when missing and we are root).
set -euo pipefail
out=${1:-"$PWD/pypack-example"}
if [ ! -x /usr/bin/busybox ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  else
    echo "examples/import-busybox.sh: needs /usr/bin/busybox (apt-get install busybox-static)" >&2
    exit 1
  fi
fi
rm -rf "$out" && mkdir -p "$out/rootfs/bin"
cp /usr/bin/busybox "$out/rootfs/bin/busybox"
ln -s busybox "$out/rootfs/bin/sh"
echo "hello from a pypack image" > "$out/rootfs/hello.txt"

pypack image import "$out/rootfs" --tag "oci:$out/layout:hello" \
  --entrypoint /bin/busybox --cmd cat --cmd /hello.txt --env PATH=/bin \
  --user 1000:1000 --label org.example.demo=1 --platform linux/amd64
pypack image copy "oci:$out/layout:hello" "docker-archive:$out/hello.tar:pypack/hello:latest"
pypack image inspect "oci:$out/layout:hello"
echo
echo "OCI layout: $out/layout (tag hello); docker-archive: $out/hello.tar"
echo "Run it with e.g.: podman run --rm oci:$out/layout:hello   or   podman load -i $out/hello.tar"
