"""Benchmark: no-op rebuild export vs first export, and rebase cost vs app size (issue #4).

Starts the real ``docker-registry`` on 127.0.0.1 (bench/_registry.py) and pushes two small
busybox run images (v1, v2). Then, with the lifecycle in-process (``lifecycle.phases.create``
over the registry, a volume cache and the fixture buildpack ``bench/fixtures/.../bench_data``):

1. **rebuild**: builds an app with ``--size-mb`` MB of buildpack layer data (half in a
   launch+cache layer, half in a launch-only layer reused by metadata on rebuild; mixed text
   and random bytes), then rebuilds it with no change in a fresh layers dir (the cached layer
   restored from the cache, as in a real rebuild). Prints both EXPORT phase times, their ratio
   (target < 5%), the blob uploads the registry logged during the rebuild (target 0), and
   ``tar | gzip -1 | sha256sum`` over the same layer data, measured in the same run, for scale.
2. **rebase**: pushes two app images on run image v1 with an app layer of ``--small-mb`` and
   ``--large-mb`` MB of random files, rebases each onto v2 (``lifecycle.phases.rebase``, a fresh
   registry client each time, interleaved; median of 3 after a warm-up round that also mounts
   v2's layers into the app repositories), and prints both times, their ratio (target < 1.5)
   and the layer bytes uploaded (target 0; only the config may be sent).

Benchmarks report, they do not fail: each target line ends in TARGET MET or TARGET MISSED.
``python3 bench/rebuild.py [--size-mb 500] [--small-mb 10] [--large-mb 1000] [--keep]``
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _registry import Registry, available, run_registry

from lifecycle import client
from lifecycle.api import Version
from lifecycle.cache import VolumeCache
from lifecycle.oci import mutate, remote
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.image import digest as image_digest
from lifecycle.oci.pipeline import layer_from_dir
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient
from lifecycle.oci.tarball import TarOptions
from lifecycle.phases.create import CreateInputs, Timings, create
from lifecycle.phases.export_io import Finished, RegistrySink
from lifecycle.phases.rebase import RebaserInputs, rebase
from lifecycle.platform import labels
from lifecycle.platform.images import RegistryImages
from lifecycle.sandbox import HostRunner

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUSYBOX = Path("/usr/bin/busybox")
PLATFORM_API = Version(0, 15)
ROUNDS = 3
CHUNK = 1 << 20


def verdict(ok: bool) -> str:
    """The per-line target mark."""
    return "TARGET MET" if ok else "TARGET MISSED"


@dataclass(frozen=True)
class Bench:
    """What every part shares: the temp root, the registry, the run image names."""

    root: Path
    reg: Registry
    keep: bool
    verbose: bool

    @property
    def run_repo(self) -> str:
        return f"{self.reg.host}/bench/run"

    def env(self) -> dict[str, str]:
        """The lifecycle's environment: no credentials from the host."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CNB_") and k != "DOCKER_CONFIG"}
        env["DOCKER_CONFIG"] = str(self.root / "docker-config")
        return env

    def client(self) -> RegistryClient:
        """A fresh anonymous client (no remembered blobs)."""
        return RegistryClient(None)

    def drop(self, *paths: Path) -> None:
        """Remove scratch data early (disk), unless ``--keep``."""
        if not self.keep:
            for p in paths:
                shutil.rmtree(p, ignore_errors=True)


# --- setup -----------------------------------------------------------------------------------
def push_run_image(b: Bench, version: str) -> str:
    """A busybox root filesystem (``/etc/base-version`` differs per version) as ``run:<v>``."""
    root = b.root / f"rootfs-{version}"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\ncnb:x:1000:1000::/:/bin/sh\n")
    (root / "etc" / "base-version").write_text(f"bench run image {version}\n")
    name = f"{b.run_repo}:{version}"
    client.import_image(client.ImportOptions(
        rootfs=str(root), dest=name, platform="linux/amd64", user="1000:1000",
        env={"PATH": "/bin"},
        labels={labels.BASE_DISTRO_NAME: "busybox", labels.BASE_DISTRO_VERSION: "1"}),
        client.Context(environ=b.env()))
    b.drop(root)
    return name


def tree_size(root: Path) -> int:
    """Bytes of regular files under ``root``."""
    return sum(os.lstat(os.path.join(d, f)).st_size
               for d, _, files in os.walk(root) for f in files)


def random_tree(root: Path, mb: int) -> None:
    """``mb`` MB of random files (4 MiB each, the last smaller), written in 1 MiB chunks."""
    left, i = mb << 20, 0
    while left > 0:
        d = root / f"dir{i // 32:03d}"
        d.mkdir(parents=True, exist_ok=True)
        size = min(left, 4 * CHUNK)
        with open(d / f"file{i:05d}.bin", "wb") as f:
            for off in range(0, size, CHUNK):
                f.write(os.urandom(min(CHUNK, size - off)))
        left -= size
        i += 1


# --- part 1: rebuild -------------------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    """One build: phase times, what the exporter wrote, the builder's output."""

    timings: Timings
    finished: Finished
    output: str
    layers: Path


def build(b: Bench, n: int, image: str, run_image: str, size_mb: int) -> Built:
    """One full build (analyze → export) with fresh ``layers`` and ``workspace`` dirs (at the
    same paths each build: they are the image's ``CNB_LAYERS_DIR`` and ``CNB_APP_DIR``)."""
    layers, app, platform = b.root / "layers", b.root / "workspace", b.root / "platform"
    if b.keep and layers.exists():
        layers.rename(b.root / f"layers-build{n - 1}")
    for d in (layers, app):
        shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(FIXTURES / "app", app)
    layers.mkdir()
    platform.mkdir(exist_ok=True)
    inputs = CreateInputs(
        app_dir=str(app), layers_dir=str(layers), platform_dir=str(platform),
        buildpacks_dir=str(FIXTURES / "buildpacks"), order_path=str(FIXTURES / "order.toml"),
        image=image, platform_api=PLATFORM_API, run_image=run_image,
        environ={**b.env(), "BENCH_DATA_MB": str(size_mb)})
    reg = b.client()
    out: list[bytes] = []

    def on_output(chunk: bytes) -> None:
        out.append(chunk)
        if b.verbose:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()

    timings = Timings()
    blobs = b.root / f"blobs-{n}"
    finished = create(inputs, RegistryImages(reg), RegistrySink(reg, (Reference.parse(image),)),
                      VolumeCache(b.root / "cache"), BlobStore(blobs), runner=HostRunner(),
                      on_output=on_output, timings=timings)
    b.drop(blobs)
    return Built(timings, finished, b"".join(out).decode(errors="replace"), layers)


def reference_pipeline(bp_dir: Path) -> float:
    """Seconds for ``tar -c deps runtime | gzip -1 | sha256sum`` in ``bp_dir``."""
    cmd = (f"set -o pipefail; tar -C {shlex.quote(str(bp_dir))} -c deps runtime "
           "| gzip -1 | sha256sum >/dev/null")
    t = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], check=True)
    return time.perf_counter() - t


def _phases(t: Timings) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in t.phases.items())


def bench_rebuild(b: Bench, run_image: str, size_mb: int) -> None:
    """Part 1 (module docstring)."""
    image = f"{b.reg.host}/bench/app:latest"
    print(f"== rebuild: ~{size_mb} MB of buildpack layers (deps: launch+cache, runtime: "
          f"launch-only), {os.cpu_count()} CPUs", flush=True)
    first = build(b, 1, image, run_image, size_mb)
    bp_dir = first.layers / "bench_data"
    data_mb = tree_size(bp_dir) / 1e6
    ref = reference_pipeline(bp_dir)

    mark = b.reg.log_mark()
    second = build(b, 2, image, run_image, size_mb)
    uploads = b.reg.uploads(mark)
    b.drop(second.layers)

    t1, t2 = first.timings.phases["exporting"], second.timings.phases["exporting"]
    ratio = t2 / t1
    reused = "deps: reusing" in second.output and "runtime: reusing" in second.output
    same = first.finished.digest == second.finished.digest
    print(f"  layer data: {data_mb:.0f} MB in 2 layers")
    print(f"  first build   phases (s): {_phases(first.timings)}")
    print(f"  no-op rebuild phases (s): {_phases(second.timings)}")
    print(f"  first build export   {t1:8.2f} s  ({data_mb / t1:.0f} MB/s incl. push + cache)")
    print(f"  no-op rebuild export {t2:8.2f} s")
    print(f"  ratio no-op/first    {100 * ratio:7.2f} %   (target < 5%)        "
          f"{verdict(ratio < 0.05)}")
    print(f"  blob uploads during rebuild: {len(uploads)}  (target 0)          "
          f"{verdict(not uploads)}")
    print(f"  same image digest: {'yes' if same else 'NO'}; buildpack reused both layers: "
          f"{'yes' if reused else 'NO'}")
    print(f"  reference tar | gzip -1 | sha256sum over the same {data_mb:.0f} MB: {ref:.2f} s "
          f"(first export {t1 / ref:.2f}x of it, no-op export {t2 / ref:.3f}x)", flush=True)


# --- part 2: rebase --------------------------------------------------------------------------
def push_app(b: Bench, run_v1: str, name: str, mb: int) -> str:
    """``bench/<name>:v1`` = run image v1 + an app layer of ``mb`` MB of random files, labelled
    as a buildpacks app (runImage.topLayer/reference) so the rebaser accepts it."""
    src, blobs = b.root / f"src-{name}", b.root / f"blobs-{name}"
    random_tree(src, mb)
    reg = b.client()
    base = remote.read_image(reg, Reference.parse(run_v1))
    layer = layer_from_dir(src, BlobStore(blobs), under="/workspace",
                           opts=TarOptions(uid=1000, gid=1000))
    md = labels.LifecycleMetadata(app=(str(layer.diff_id),), run_image=labels.RunImageMetadata(
        top_layer=str(base.layers()[-1].diff_id), reference=f"{b.run_repo}@{image_digest(base)}",
        image=b.run_repo))
    img = mutate.with_labels(mutate.append_layers(base, [layer]),
                             {labels.LIFECYCLE_METADATA: md.to_json()})
    app = f"{b.reg.host}/bench/{name}"
    remote.push_image(reg, img, [Reference.parse(f"{app}:v1")])
    b.drop(src, blobs)
    return app


@dataclass
class RebaseRuns:
    """Times, uploaded digests and layer bytes of the rebases of one app."""

    times: list[float]
    uploads: list[str]
    layer_bytes: int = 0
    other_bytes: int = 0


def rebase_once(b: Bench, app: str, run_v2: str, i: int, runs: RebaseRuns) -> None:
    """Rebase ``app:v1`` onto ``run_v2`` as ``app:rebased<i>``, timed, uploads counted (the
    bytes of uploaded layers and of other blobs, i.e. the config)."""
    mark = b.reg.log_mark()
    t = time.perf_counter()
    rebase(RebaserInputs(images=(f"{app}:rebased{i}",), platform_api=PLATFORM_API,
                         run_image=run_v2, previous_image=f"{app}:v1", environ=b.env()),
           b.client())
    runs.times.append(time.perf_counter() - t)
    uploaded = b.reg.uploads(mark)
    runs.uploads += uploaded
    out = remote.read_image(b.client(), Reference.parse(f"{app}:rebased{i}"))
    sizes = {str(ly.digest): ly.size for ly in out.layers()}
    runs.layer_bytes += sum(sizes.get(d, 0) for d in uploaded)
    config = str(out.manifest().config.digest)
    runs.other_bytes += sum(len(out.raw_config()) for d in uploaded if d == config)


def check_rebased(b: Bench, app: str, run_v2: str) -> bool:
    """The rebased image has v2's layers below the app's unchanged layer."""
    reg = b.client()
    old = remote.read_image(reg, Reference.parse(f"{app}:v1")).layers()
    new = remote.read_image(reg, Reference.parse(f"{app}:rebased1")).layers()
    v2 = remote.read_image(reg, Reference.parse(run_v2)).layers()
    return [x.digest for x in new] == [x.digest for x in v2] + [old[-1].digest]


def bench_rebase(b: Bench, run_v1: str, run_v2: str, small_mb: int, large_mb: int) -> None:
    """Part 2 (module docstring)."""
    print(f"== rebase: app layer {small_mb} MB vs {large_mb} MB, run image v1 -> v2, "
          f"median of {ROUNDS} after a warm-up", flush=True)
    t = time.perf_counter()
    apps = {"small": push_app(b, run_v1, "small", small_mb),
            "large": push_app(b, run_v1, "large", large_mb)}
    print(f"  (pushed both app images in {time.perf_counter() - t:.1f} s)", flush=True)
    runs = {k: RebaseRuns([], []) for k in apps}
    for i in range(ROUNDS + 1):  # interleaved, so load from other users hits both alike
        for k, app in apps.items():
            rebase_once(b, app, run_v2, i, runs[k])
    # round 0 also mounts v2's layers into the app's repository: a warm-up, not timed
    med = {k: statistics.median(r.times[1:]) for k, r in runs.items()}
    for k, mb in (("small", small_mb), ("large", large_mb)):
        r = runs[k]
        ok = check_rebased(b, apps[k], run_v2)
        print(f"  {k:5s} app ({mb:5d} MB)  {med[k]:7.3f} s  (warm-up {r.times[0]:.3f}, runs "
              f"{', '.join(f'{x:.3f}' for x in r.times[1:])}); blobs uploaded "
              f"{len(r.uploads)} ({r.other_bytes} config bytes); v2 base + same app layer: "
              f"{'yes' if ok else 'NO'}")
    ratio = med["large"] / med["small"]
    print(f"  ratio large/small    {ratio:7.2f}     (target < 1.5)        "
          f"{verdict(ratio < 1.5)}")
    layer_bytes = sum(r.layer_bytes for r in runs.values())
    print(f"  layer bytes uploaded by {2 * ROUNDS + 2} rebases: {layer_bytes}  (target 0)     "
          f"{verdict(layer_bytes == 0)}", flush=True)


# --- main ------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=500, help="buildpack layer data (rebuild)")
    ap.add_argument("--small-mb", type=int, default=10, help="small app layer (rebase)")
    ap.add_argument("--large-mb", type=int, default=1000, help="large app layer (rebase)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (printed)")
    ap.add_argument("-v", "--verbose", action="store_true", help="lifecycle logs, bp output")
    args = ap.parse_args()
    for need, what in ((available(), "docker-registry"), (BUSYBOX.exists(), str(BUSYBOX))):
        if not need:
            print(f"{what} is required", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    root = Path(tempfile.mkdtemp(prefix="pypack-bench-rebuild-"))
    os.environ["PYPACK_HOME"] = str(root / "pypack-home")
    try:
        with run_registry(root / "registry") as reg:
            b = Bench(root, reg, args.keep, args.verbose)
            (root / "docker-config").mkdir()
            run_v1, run_v2 = push_run_image(b, "v1"), push_run_image(b, "v2")
            bench_rebuild(b, run_v1, args.size_mb)
            bench_rebase(b, run_v1, run_v2, args.small_mb, args.large_mb)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
