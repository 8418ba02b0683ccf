"""``pypack build IMAGE``: pack's flags over ``lifecycle.appbuild.build``."""

from __future__ import annotations

import logging
import sys
import time

import click

from lifecycle.appbuild import BuildOptions, build
from lifecycle.client import Context
from lifecycle.errors import UsageError

log = logging.getLogger("lifecycle")


def _cache_option(spec: str | None) -> tuple[str | None, bool]:
    """pack's ``--cache 'type=build;format=image;name=REF'``: (cache image, clear)."""
    if not spec:
        return None, False
    fields = dict(part.split("=", 1) for part in spec.split(";") if "=" in part)
    fmt = fields.get("format", "volume")
    if fmt == "image":
        if not fields.get("name"):
            raise UsageError("--cache format=image needs name=<image reference>")
        return fields["name"], False
    if fmt in ("volume", "bind"):
        return None, False
    raise UsageError(f"--cache: unknown format {fmt!r} (want image or volume)")


class _Stamped(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(message)s")
        self._start = time.monotonic()

    def format(self, record: logging.LogRecord) -> str:
        return f"[{time.monotonic() - self._start:7.2f}s] {super().format(record)}"


def _configure_logs(verbose: bool, quiet: bool, timestamps: bool) -> None:
    root = logging.getLogger("lifecycle")
    if verbose:
        root.setLevel(logging.DEBUG)
    elif quiet:
        root.setLevel(logging.WARNING)
    if timestamps:
        for h in root.handlers:
            h.setFormatter(_Stamped())


def _stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


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
@click.option("--cache", "cache_spec", help="pack's cache spec, e.g. 'type=build;format=image;"
              "name=REF'.")
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
    spec_image, _ = _cache_option(cache_spec)
    opts = BuildOptions(
        image=image, builder=builder, path=path, env=env, env_files=env_file,
        buildpacks=buildpack, run_image=run_image, publish=publish,
        cache_image=cache_image or spec_image, clear_cache=clear_cache, descriptor=descriptor,
        tags=tags, default_process=default_process, previous_image=previous_image,
        creation_time=creation_time, sandbox=sandbox, output=output, host_ca=not no_host_ca)
    ctx = Context(insecure_registries=insecure_registry)
    start = time.monotonic()
    result = build(opts, ctx, on_output=None if quiet else _stdout)
    total = time.monotonic() - start
    if not quiet:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        click.echo(f"Timings: {steps}", err=True)
    click.echo(f"Successfully built image {result.location} ({result.digest}) in {total:.1f}s",
               err=quiet)
