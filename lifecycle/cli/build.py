"""``pypack build IMAGE``: pack's flags over ``lifecycle.appbuild.build``."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click

from lifecycle import progress
from lifecycle.appbuild import BuildOptions, build
from lifecycle.client import Context
from lifecycle.errors import LifecycleError, UsageError
from lifecycle.sandbox import OutputSink

log = logging.getLogger("lifecycle")
_T0 = time.monotonic()
"""When this command started: the origin of ``--timestamps``."""


def cache_option(spec: str | None, cache_root: Path) -> tuple[str | None, str | None]:
    """pack's ``--cache`` (``;``-separated ``key=value``): (cache image, cache directory).

    ``type=build`` (the default) with ``format=image;name=REF`` (a registry cache image),
    ``format=volume[;name=NAME]`` (a named volume, ``<cache_root>/volumes/NAME``, shared by
    the builds that name it; no name: the image's own) or ``format=bind;source=DIR``. pack's
    ``type=launch`` is the daemon's launch cache: there is no daemon, so it is refused."""
    if not spec:
        return None, None
    fields: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        key, eq, value = part.partition("=")
        if not eq or key not in ("type", "format", "name", "source"):
            raise UsageError(f"--cache {spec!r}: {part!r} is not type=, format=, name= or "
                             "source=")
        fields[key] = value
    if fields.get("type", "build") != "build":
        raise UsageError(f"--cache type={fields['type']}: only type=build (a launch cache "
                         "belongs to a Docker daemon)")
    fmt = fields.get("format", "volume")
    if fmt == "image":
        if not fields.get("name"):
            raise UsageError("--cache format=image needs name=<image reference>")
        return fields["name"], None
    if fmt == "volume":
        name = fields.get("name")
        if name is None:
            return None, None
        if not name or "/" in name or name in (".", ".."):
            raise UsageError(f"--cache name={name!r}: not a volume name")
        return None, str(cache_root / "volumes" / name)
    if fmt == "bind":
        if not fields.get("source"):
            raise UsageError("--cache format=bind needs source=<directory>")
        return None, os.path.abspath(os.path.expanduser(fields["source"]))
    raise UsageError(f"--cache: unknown format {fmt!r} (want image, volume or bind)")


def _stamp(start: float) -> str:
    """The ``--timestamps`` prefix: seconds since ``start``."""
    return f"[{time.monotonic() - start:7.2f}s] "


class _Stamped(logging.Formatter):
    def __init__(self, start: float) -> None:
        super().__init__("%(message)s")
        self._start = start

    def format(self, record: logging.LogRecord) -> str:
        return f"{_stamp(self._start)}{super().format(record)}"


def _configure_logs(verbose: bool, quiet: bool, timestamps: bool) -> None:
    root = logging.getLogger("lifecycle")
    if verbose:
        root.setLevel(logging.DEBUG)
    elif quiet:
        root.setLevel(logging.WARNING)
    if timestamps:
        for h in root.handlers:
            h.setFormatter(_Stamped(_T0))


def _tags(image: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """``--tag`` values, each repeatable or a comma-separated list (as pack); a tag that is
    not a valid reference (a bare one: for IMAGE's repository, ``client.full_tag``) is refused
    before the build, not after it."""
    from lifecycle.client import full_tag

    out = tuple(t.strip() for v in values for t in v.split(",") if t.strip())
    for t in out:
        try:
            full_tag(image, t)
        except LifecycleError as e:
            raise UsageError(f"--tag {t!r}: {e}") from e
    return out


def _stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _stamped_stdout(start: float) -> OutputSink:
    """Buildpack output with the same elapsed-time prefix as the log lines."""

    def write(chunk: bytes) -> None:
        prefix = _stamp(start).encode()
        lines = chunk.splitlines(keepends=True)
        sys.stdout.buffer.write(b"".join(prefix + line for line in lines))
        sys.stdout.buffer.flush()
    return write


@click.command("build")
@click.argument("image")
@click.option("-B", "--builder", default=None,
              help="Builder image (store name, oci:DIR, registry ref); default: "
              "project.toml's, else 'default'.")
@click.option("-p", "--path", default=".", show_default=True, help="The app directory.")
@click.option("-e", "--env", multiple=True, help="Build-time variable K=V (or K from the host).")
@click.option("--env-file", multiple=True, help="File of K=V build-time variables.")
@click.option("-b", "--buildpack", multiple=True,
              help="Buildpack ID[@VERSION] or directory; replaces the builder's order.")
@click.option("--run-image", help="Run image to use instead of the builder's.")
@click.option("--publish", is_flag=True, help="Push IMAGE to its registry.")
@click.option("--cache-image", help="Keep the build cache as this registry image.")
@click.option("--cache", "cache_spec", help="pack's cache spec: 'type=build;format=image;"
              "name=REF', 'format=volume;name=NAME' or 'format=bind;source=DIR'.")
@click.option("--clear-cache", is_flag=True, help="Start with an empty cache.")
@click.option("-d", "--descriptor", help="project.toml (default: <path>/project.toml).")
@click.option("-t", "--tag", "tags", multiple=True, help="Also tag the image as this.")
@click.option("-D", "--default-process", help="The image's default process type.")
@click.option("--previous-image", help="Image to reuse layers from (default: IMAGE).")
@click.option("--creation-time", help="'now' or seconds since the epoch (default: 1980).")
@click.option("--sandbox", type=click.Choice(["auto", "userns", "none"]), default="auto",
              show_default=True, help="How buildpacks run.")
@click.option("--no-host-ca", is_flag=True, help="Do not trust the host's CAs during the build.")
@click.option("--output", help="Write the image to oci:DIR[:TAG] or docker-archive:FILE.")
@click.option("--insecure-registry", multiple=True, help="Registry reachable over plain HTTP.")
@click.option("-v", "--verbose", is_flag=True, help="Debug output.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings, errors and the result.")
@click.option("--timestamps", is_flag=True, help="Prefix log lines with elapsed time.")
def build_command(image: str, builder: str | None, path: str, env: tuple[str, ...],
                  env_file: tuple[str, ...], buildpack: tuple[str, ...], run_image: str | None,
                  publish: bool, cache_image: str | None, cache_spec: str | None,
                  clear_cache: bool, descriptor: str | None, tags: tuple[str, ...],
                  default_process: str | None, previous_image: str | None,
                  creation_time: str | None, sandbox: str, no_host_ca: bool,
                  output: str | None, insecure_registry: tuple[str, ...], verbose: bool,
                  quiet: bool, timestamps: bool) -> None:
    """Build IMAGE from the app at --path, without Docker and without root."""
    _configure_logs(verbose, quiet, timestamps)
    if quiet:
        progress.install(progress.NullReporter())
    ctx = Context(insecure_registries=insecure_registry)
    spec_image, spec_dir = cache_option(cache_spec, ctx.store.cache_dir)
    if cache_image and (spec_image or spec_dir):
        raise UsageError("--cache-image and --cache both name a cache: give one")
    tags = _tags(image, tags)
    opts = BuildOptions(
        image=image, builder=builder, path=path, env=env, env_files=env_file,
        buildpacks=buildpack, run_image=run_image, publish=publish,
        cache_image=cache_image or spec_image, cache_dir=spec_dir, clear_cache=clear_cache,
        descriptor=descriptor,
        tags=tags, default_process=default_process, previous_image=previous_image,
        creation_time=creation_time, sandbox=sandbox, output=output, host_ca=not no_host_ca)
    start = time.monotonic()
    sink = None if quiet else _stamped_stdout(_T0) if timestamps else _stdout
    result = build(opts, ctx, on_output=sink)
    total = time.monotonic() - start
    if not quiet:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        click.echo(f"Timings: {steps}", err=True)
    click.echo(f"Successfully built image {result.location} ({result.digest}) in {total:.1f}s",
               err=quiet)
