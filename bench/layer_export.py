"""Benchmark: our one-pass layer export (tar -> sha256 -> parallel gzip -> sha256) against
``tar | gzip -1 | sha256sum`` and ``tar | pigz -1 | sha256sum``, measured in the same run.

Generates a mixed tree (many small text files, large compressible and incompressible files,
symlinks, hard links) of about ``--size-mb`` MB in a temp dir, runs each pipeline three
times interleaved (page cache warm, best time kept), checks that our output is byte-identical
across runs, and prints MB/s (tar-stream MB per wall second, the same numerator for every
pipeline) and ratios.
Targets on the 2-core CI machine: >= 2.0x gzip, >= 1.0x pigz.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lifecycle.oci.pipeline import Compression, LayerDigests, compress
from lifecycle.oci.tarball import tar_tree

WORDS = [
    "buildpack", "layer", "image", "config", "digest", "manifest", "export", "launch", "env",
    "python", "node", "java", "go", "ruby", "static", "runtime", "cache", "app", "platform",
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "tempor"]


ROUNDS = 3


class _Null:
    def write(self, data: bytes) -> int:
        return len(data)


def _text_blocks(rng: random.Random, n: int, size: int) -> list[bytes]:
    blocks = []
    for _ in range(n):
        words = rng.choices(WORDS, k=size // 6)
        line = " ".join(f"{w}{rng.randrange(1000)}" if rng.random() < 0.3 else w for w in words)
        blocks.append(line.encode()[:size])
    return blocks


def make_tree(root: Path, size_mb: int, seed: int = 1) -> None:
    """About 30% small files, 45% large compressible, 25% large random; symlinks, links."""
    rng = random.Random(seed)
    blocks = _text_blocks(rng, 8, 1 << 20)
    total = size_mb << 20
    small_budget, big_text, big_rand = int(total * 0.30), int(total * 0.45), int(total * 0.25)
    n = 0
    while small_budget > 0:
        d = root / f"pkg{n // 200:03d}" / f"mod{n // 20 % 10}"
        d.mkdir(parents=True, exist_ok=True)
        size = rng.randrange(256, 60_000)
        b = blocks[n % 8]
        start = rng.randrange(len(b) - size)
        (d / f"file{n}.py").write_bytes(b[start:start + size])
        if n % 13 == 0:
            os.symlink(f"file{n}.py", d / f"link{n}")
        small_budget -= size
        n += 1
    big = root / "big"
    big.mkdir()
    i = 0
    while big_text > 0:
        mb = min(rng.randrange(8, 40), max(1, big_text >> 20))
        with open(big / f"text{i}.dat", "wb") as f:
            for _ in range(mb):
                f.write(rng.randbytes(64) + blocks[rng.randrange(8)])
        big_text -= mb << 20
        i += 1
    while big_rand > 0:
        mb = min(rng.randrange(8, 40), max(1, big_rand >> 20))
        (big / f"rand{i}.bin").write_bytes(os.urandom(mb << 20))
        big_rand -= mb << 20
        i += 1
    os.link(big / "text0.dat", big / "text0-hardlink.dat")


def ours(root: Path, workers: int | None) -> tuple[float, LayerDigests]:
    """One run of our pipeline into a sink that discards bytes."""
    t = time.perf_counter()
    d = compress(tar_tree(root), _Null(), Compression("gzip", workers=workers))
    return time.perf_counter() - t, d


def shell(root: Path, compressor: str) -> float:
    """One run of ``tar -c . | <compressor> | sha256sum``."""
    cmd = f"set -o pipefail; tar -C {root} -c . | {compressor} | sha256sum >/dev/null"
    t = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=500)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--dir", type=Path, default=None, help="reuse/keep the tree here")
    args = ap.parse_args()
    tmp = None
    root = args.dir
    if root is None:
        tmp = tempfile.mkdtemp(prefix="pypack-bench-")
        root = Path(tmp) / "tree"
    try:
        if not root.exists():
            t = time.perf_counter()
            root.mkdir(parents=True)
            make_tree(root, args.size_mb)
            print(f"generated tree in {time.perf_counter() - t:.1f}s")
        return run(root, args.workers)
    finally:
        if tmp:
            shutil.rmtree(tmp)


def run(root: Path, workers: int | None) -> int:
    """Measure and print; returns 1 if our output differs between runs."""
    runs, gz, pz = [], [], []
    for _ in range(ROUNDS):  # interleaved, so load from other users hits all alike
        runs.append(ours(root, workers))
        gz.append(shell(root, "gzip -1"))
        pz.append(shell(root, "pigz -1"))
    mb = runs[0][1].uncompressed_size / 1e6
    identical = all(r[1] == runs[0][1] for r in runs)
    t_ours, t_gzip, t_pigz = min(r[0] for r in runs), min(gz), min(pz)
    d = runs[0][1]
    print(f"tree: {mb:.0f} MB tar stream, {os.cpu_count()} CPUs, "
          f"ours compressed to {d.size / 1e6:.0f} MB")
    for name, t in (("pypack pipeline (gzip -1, parallel)", t_ours),
                    ("tar | gzip -1 | sha256sum", t_gzip), ("tar | pigz -1 | sha256sum", t_pigz)):
        print(f"  {name:40s} {t:6.2f} s  {mb / t:7.1f} MB/s")
    print(f"ratio vs gzip: {t_gzip / t_ours:.2f}x (target >= 2.0)")
    print(f"ratio vs pigz: {t_pigz / t_ours:.2f}x (target >= 1.0)")
    print(f"byte-identical across runs: {'yes' if identical else 'NO'} ({d.digest})")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
