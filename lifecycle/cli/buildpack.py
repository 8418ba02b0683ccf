"""``pypack buildpack new|package|inspect``: thin click commands over ``lifecycle.buildpackage``.

``new ID`` scaffolds a working buildpack (``scaffold``); ``package DEST --config package.toml``
makes a buildpackage (pack's format; ``package``): into the local store as DEST, to its registry
with ``--publish``, to ``oci:``/``docker-archive:`` locations, or a ``.cnb`` file with
``--format file``; ``inspect REF`` shows a buildpackage's (or builder's) buildpacks and labels.
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from lifecycle import client
from lifecycle.buildpackage import scaffold
from lifecycle.buildpackage.inspect import PackageInfo, inspect_package
from lifecycle.buildpackage.package import FORMATS, PackageOptions, package_buildpack

insecure_option = click.option(
    "--insecure-registry", "insecure", multiple=True, metavar="HOST",
    help="Reach this registry over plain HTTP (loopback registries always are).")


@click.group("buildpack")
def buildpack_group() -> None:
    """Create, package and inspect buildpacks."""


@buildpack_group.command("new")
@click.argument("bp_id", metavar="ID")
@click.option("-p", "--path", default=None, type=click.Path(file_okay=False),
              help="Where to create it (default: ./<last part of ID>).")
@click.option("-l", "--lang", type=click.Choice(scaffold.LANGS), default="bash",
              show_default=True, help="bin/detect and bin/build in bash, or in Python on "
                                      "lifecycle.sdk (vendored).")
@click.option("-a", "--api", default=scaffold.DEFAULT_API, show_default=True,
              help="Buildpack API of the new buildpack.")
@click.option("-V", "--version", "bp_version", default=scaffold.DEFAULT_VERSION,
              show_default=True, help="Version of the new buildpack.")
@click.option("-t", "--targets", multiple=True, metavar="OS[/ARCH[/VARIANT]][:DISTRO@V]",
              help="A target (repeatable; default: this machine's os/arch).")
def new_cmd(bp_id: str, path: str | None, lang: str, api: str, bp_version: str,
            targets: tuple[str, ...]) -> None:
    """Create a working buildpack ID with a sample app and a test script."""
    opts = scaffold.NewOptions(id=bp_id, path=path, lang=lang, api=api, version=bp_version,
                               targets=targets)
    for rel in scaffold.create(opts):
        click.echo(f"    create  {rel}")
    click.echo(f"Successfully created {bp_id} in {opts.directory()}")


@buildpack_group.command("package")
@click.argument("dest")
@click.option("-c", "--config", "config_path", default=None,
              type=click.Path(exists=True, dir_okay=False), help="The package.toml (pack's "
                                                                 "format).")
@click.option("-p", "--path", default=None, type=click.Path(exists=True, file_okay=False),
              help="Package this buildpack directory alone (instead of --config).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="image",
              show_default=True, help="An image (store, registry, oci:, docker-archive:) or "
                                      "a .cnb file.")
@click.option("--publish", is_flag=True, help="Push DEST to its registry instead of the store.")
@click.option("--target", "platform", default=None, metavar="OS/ARCH[/VARIANT]",
              help="The image platform (default: this machine's, if the buildpack allows it).")
@click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="An extra image label (repeatable).")
@insecure_option
def package_cmd(dest: str, config_path: str | None, path: str | None, fmt: str, publish: bool,
                platform: str | None, labels: tuple[str, ...], insecure: tuple[str, ...]) -> None:
    """Package a buildpack (and its dependencies) as DEST."""
    extra = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: want KEY=VALUE", param_hint="--label")
        extra[key] = value
    opts = PackageOptions(name=dest, config=config_path, path=path, publish=publish,
                          format=fmt, platform=platform, labels=extra)
    result = package_buildpack(opts, client.Context(insecure))
    click.echo(f"{result.location}@{result.digest}")


@buildpack_group.command("inspect")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@insecure_option
def inspect_cmd(ref: str, as_json: bool, insecure: tuple[str, ...]) -> None:
    """Show the buildpacks of buildpackage (or builder) REF."""
    info = inspect_package(ref, client.Context(insecure))
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2, sort_keys=True))
        return
    _print(info)


def _print(info: PackageInfo) -> None:
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"[bold]{info.location}[/bold] ({info.kind})")
    out.print(f"  Digest:     {info.digest}")
    out.print(f"  Platform:   {info.platform}")
    meta = info.metadata
    if meta is not None:
        name = f"  ({meta.info.name})" if meta.info.name else ""
        out.print(f"  Buildpack:  {meta.id}@{meta.version}{name}")
        if meta.info.homepage:
            out.print(f"  Homepage:   {meta.info.homepage}")
        out.print("  Stacks:     " + (", ".join(s.id for s in meta.stacks) or "-"))
        if meta.targets:
            out.print("  Targets:    " + ", ".join(t.describe() for t in meta.targets))
    table = Table(title="Buildpacks", title_justify="left", expand=False)
    for col in ("ID", "Version", "API", "Homepage", "Layer"):
        table.add_column(col)
    for bp in info.buildpacks():
        table.add_row(bp["id"], bp["version"], str(bp.get("api") or ""),
                      bp.get("homepage", ""), bp["layerDiffID"][:19])
    out.print(table)
    if info.order:
        out.print("Detection order:")
        for line in info.order:
            mark = "  (optional)" if line.optional else ""
            out.print(f"  {'  ' * line.depth}Group #{line.group}: {line.id}@{line.version}"
                      f"{mark}")
