"""Benchmark: `pypack build` of the Python example: cold, no-op and code-change rebuild (#6).

Uses a private ``PYPACK_HOME`` under a temp dir, or ``--home DIR`` to reuse one. Setup, not
timed: the default stack (``pypack stack build default``: mmdebstrap, ~2-4 min the first time
in a fresh home, seconds when it is up to date), the default builder and its unpacked root
filesystem. Then, on a copy of ``examples/python-web`` (waitress from PyPI), with
``lifecycle.appbuild.build`` called in this process (interpreter start-up not counted; the
builder is still refreshed and the sandbox still started on every build, as ``pypack build``
does):

1. **cold** build: builder present, empty cache (``--clear-cache``) and no previous image;
2. **no-op** rebuild: nothing changed;
3. **code-change** rebuild: a comment appended to ``app.py``.

``--requirements FILE`` replaces the example's requirements.txt (waitress alone, a 56 kB pure
Python wheel: the cold build is then mostly fixed per-build costs, so the ratio is pessimistic).

Then the same three builds through the CLI, each a new process (``python -m lifecycle.cli.main
build``), as a user sees them: interpreter start-up and imports (printed alone) included; no
target is set on these.

Prints each end-to-end time with the per-phase timings and the exporter's layer counts, the
ratio no-op/cold (target < 0.2), and checks: the no-op rebuild gives the same digest, and
both rebuilds reuse the dependency layer (the python buildpack's "Reusing the venv layer", read
from the buildpack output through ``on_output``). For scale it also times, in the same run,
``python3 -m venv V && V/bin/pip install -r requirements.txt`` on the host (a plain local
install of the same dependencies; the host pip may find them in a local wheel dir or its cache,
the sandboxed build downloads them: the source pip used is printed).

Benchmarks report, they do not fail: each target line ends in TARGET MET or TARGET MISSED;
the exit status is 1 only when a build fails or a correctness check (same digest, reuse) fails.
``python3 bench/build.py [--home DIR] [--requirements FILE] [--sandbox auto|userns|none]
[--keep] [-v]``
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "python-web"
IMAGE = "pypack-bench/python-web"
REUSED = "Reusing the venv layer"
INSTALLED = "Installing dependencies"
EXPORT_LINE = "%-8s %s (%s)"
"""The exporter's per-layer log format (status, name, size): counted per status."""


def verdict(ok: bool) -> str:
    """The per-line target mark."""
    return "TARGET MET" if ok else "TARGET MISSED"


class _Records(logging.Handler):
    """Collects the lifecycle's log records (for the exporter's layer statuses)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Run:
    """One timed build."""

    name: str
    seconds: float
    digest: str
    phases: dict[str, float]
    output: str
    layers: Counter[str] = field(default_factory=Counter)

    def phase_line(self) -> str:
        return ", ".join(f"{k} {v:.2f}" for k, v in self.phases.items())

    def layer_line(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in sorted(self.layers.items())) or "?"


# --- setup (not timed) -----------------------------------------------------------------------
def setup(home: Path) -> None:
    """The default stack, the default builder and its unpacked root filesystem."""
    from lifecycle.appbuild import ensure_default_builder
    from lifecycle.client import Context
    from lifecycle.resources import default_builder_config
    from lifecycle.sandbox import rootfs
    from lifecycle.stack.build import StackBuildOptions
    from lifecycle.stack.build import build as build_stack

    ctx = Context(store_root=str(home))
    t = time.perf_counter()
    print(f"setup (not timed): default stack in {home} (`pypack stack build default`; "
          "~2-4 min on first use) ...", flush=True)
    result = build_stack(StackBuildOptions(str(default_builder_config().parent)), ctx.store)
    state = "already up to date" if result.up_to_date else "built"
    print(f"  stack {state} in {time.perf_counter() - t:.1f} s "
          f"({', '.join(i.name for i in result.images)})", flush=True)
    t = time.perf_counter()
    builder = ensure_default_builder(ctx)
    rootfs.unpack(builder, ctx.store)
    print(f"  default builder + unpacked root filesystem ready in "
          f"{time.perf_counter() - t:.1f} s", flush=True)


def forget_image(home: Path) -> None:
    """No previous image for the cold build."""
    from lifecycle.store import Store

    store = Store(home)
    if store.has(IMAGE):
        store.remove(IMAGE)


# --- one build -------------------------------------------------------------------------------
def timed_build(name: str, app: Path, home: Path, sandbox: str, clear_cache: bool,
                verbose: bool) -> Run:
    """``pypack build IMAGE --path app [--clear-cache]`` in-process, timed end to end."""
    from lifecycle.appbuild import BuildOptions, build
    from lifecycle.client import Context

    out: list[bytes] = []

    def on_output(chunk: bytes) -> None:
        out.append(chunk)
        if verbose:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()

    records = _Records()
    log = logging.getLogger("lifecycle")
    log.addHandler(records)
    opts = BuildOptions(image=IMAGE, path=str(app), clear_cache=clear_cache, sandbox=sandbox)
    try:
        t = time.perf_counter()
        result = build(opts, Context(store_root=str(home)), on_output=on_output)
        seconds = time.perf_counter() - t
    finally:
        log.removeHandler(records)
    layers: Counter[str] = Counter()
    for r in records.records:
        if r.msg == EXPORT_LINE and isinstance(r.args, tuple) and r.args:
            layers[str(r.args[0])] += 1
    return Run(name, seconds, str(result.digest), dict(result.timings),
               b"".join(out).decode(errors="replace"), layers)


# --- the same through the CLI ---------------------------------------------------------------
def cli_builds(app: Path, home: Path, sandbox: str) -> tuple[tuple[float, float, float], float]:
    """Seconds of cold, no-op and code-change ``pypack build`` as new processes (what a user
    sees: interpreter start-up and imports included), and of the start-up and imports alone."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYPACK_HOME"] = str(home)  # bytecode cached, as in any pip-installed copy

    def run(*argv: str) -> float:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")
        return seconds

    build = ("-m", "lifecycle.cli.main", "build", IMAGE, "--path", str(app), "--sandbox", sandbox)
    run("-c", "import lifecycle.cli.build")  # writes the bytecode caches if missing
    forget_image(home)
    cold = run(*build, "--clear-cache")
    noop = run(*build)
    with open(app / "app.py", "a") as f:
        f.write("# another code change for bench/build.py\n")
    code = run(*build)
    start = min(run("-c", "import lifecycle.cli.build") for _ in range(3))
    return (cold, noop, code), start


# --- the reference: a plain host install -----------------------------------------------------
def pip_reference(app: Path, scratch: Path) -> tuple[float, str]:
    """Seconds for ``python3 -m venv V && V/bin/pip install -r requirements.txt`` and where
    pip found the packages (local wheel dir, pip cache, download)."""
    venv = scratch / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    cmd = f"python3 -m venv {venv} && {venv}/bin/pip install -r requirements.txt"
    t = time.perf_counter()
    proc = subprocess.run(["bash", "-c", cmd], cwd=app, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"pip reference failed:\n{proc.stdout}{proc.stderr}")
    shutil.rmtree(venv, ignore_errors=True)
    kinds: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        if m := re.match(r"\s*(Processing|Using cached|Downloading) (\S+)", line):
            local = m[1] == "Processing" and not m[2].startswith(("http:", "https:"))
            kinds["local file" if local else "pip cache" if m[1] == "Using cached"
                  else "download"] += 1
    return seconds, ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "unknown"


# --- the benchmark ---------------------------------------------------------------------------
def bench(home: Path, scratch: Path, sandbox: str, verbose: bool,
          requirements: Path | None) -> int:
    """Setup, three builds, the reference, the report; 1 if a correctness check fails."""
    setup(home)
    app = scratch / "python-web"
    shutil.copytree(EXAMPLE, app)
    if requirements is not None:
        shutil.copyfile(requirements, app / "requirements.txt")
    deps = " ".join(ln.strip() for ln in (app / "requirements.txt").read_text().splitlines()
                    if ln.strip() and not ln.startswith("#"))
    forget_image(home)
    print(f"== pypack build {IMAGE} --path <copy of examples/python-web> (in-process, "
          f"sandbox {sandbox}, {os.cpu_count()} CPUs); requirements: {deps}", flush=True)
    cold = timed_build("cold (--clear-cache)", app, home, sandbox, True, verbose)
    noop = timed_build("no-op rebuild", app, home, sandbox, False, verbose)
    with open(app / "app.py", "a") as f:
        f.write("# a code change for bench/build.py\n")
    code = timed_build("code-change rebuild", app, home, sandbox, False, verbose)
    cli_runs = cli_builds(app, home, sandbox)
    ref, source = pip_reference(app, scratch)

    for r in (cold, noop, code):
        print(f"  {r.name:22s} {r.seconds:7.2f} s   layers: {r.layer_line()}")
        print(f"  {'':22s} phases (s): {r.phase_line()}")
    ratio = noop.seconds / cold.seconds
    print(f"  ratio no-op/cold        {ratio:6.3f}   (target < 0.2)         {verdict(ratio < 0.2)}")
    print(f"  ratio code-change/cold  {code.seconds / cold.seconds:6.3f}")
    print(f"  reference: python3 -m venv + pip install -r requirements.txt on the host: "
          f"{ref:.2f} s (cold build {cold.seconds / ref:.1f}x of it, no-op rebuild "
          f"{noop.seconds / ref:.2f}x); packages from: {source}")
    (c_cold, c_noop, c_code), start = cli_runs
    print(f"  the same through the CLI (`python -m lifecycle.cli.main build ...`, each a new "
          f"process; no target): cold {c_cold:.2f} s, no-op {c_noop:.2f} s, code change "
          f"{c_code:.2f} s, ratio no-op/cold {c_noop / c_cold:.3f}; of each, {start:.2f} s is "
          "interpreter start-up and imports (`python -c 'import lifecycle.cli.build'`)")
    checks = {
        "cold build installed the dependencies": INSTALLED in cold.output,
        "no-op rebuild: same digest": noop.digest == cold.digest,
        "no-op rebuild reused the venv layer": REUSED in noop.output,
        "code-change rebuild reused the venv layer": REUSED in code.output,
        "code-change rebuild: new digest": code.digest != noop.digest,
    }
    for what, ok in checks.items():
        print(f"  {what}: {'yes' if ok else 'NO'}")
    print(f"  digests: cold {cold.digest[:19]}, no-op {noop.digest[:19]}, "
          f"code change {code.digest[:19]}", flush=True)
    return 0 if all(checks.values()) else 1


def cleanup(home: Path) -> None:
    """Drop the benchmark's image and work directory from a reused home (blobs stay until
    ``pypack image prune``)."""
    from lifecycle.appbuild import work_key

    forget_image(home)
    shutil.rmtree(home / "builds" / work_key(IMAGE), ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None,
                    help="PYPACK_HOME to reuse (e.g. ~/.local/share/pypack); default: a temp one")
    ap.add_argument("--sandbox", choices=["auto", "userns", "none"], default="auto")
    ap.add_argument("--requirements", type=Path, default=None,
                    help="replace the example's requirements.txt (a heavier dependency set)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir / the bench image")
    ap.add_argument("-v", "--verbose", action="store_true", help="lifecycle logs, bp output")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("lifecycle").setLevel(logging.INFO)
    if not args.verbose:  # records are still collected; only the console stays quiet
        logging.getLogger().handlers[0].setLevel(logging.WARNING)
    scratch = Path(tempfile.mkdtemp(prefix="pypack-bench-build-"))
    home = args.home.expanduser().resolve() if args.home else scratch / "pypack-home"
    os.environ["PYPACK_HOME"] = str(home)
    try:
        return bench(home, scratch, args.sandbox, args.verbose, args.requirements)
    finally:
        if args.keep:
            print(f"kept {scratch}" + (f" and {IMAGE} in {home}" if args.home else ""))
        else:
            if args.home:
                cleanup(home)
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
