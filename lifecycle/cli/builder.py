"""``pypack builder create`` and ``pypack builder inspect``: thin click commands over
``lifecycle.builder.create`` and ``lifecycle.builder.inspect``.

``create NAME --config builder.toml`` writes the builder into the local image store as NAME
(``--publish``: push NAME to its registry; ``oci:DIR[:TAG]``/``docker-archive:FILE[:TAG]``
names work too). ``inspect NAME|REF`` prints buildpacks, order, run images, lifecycle and APIs.
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from lifecycle import client
from lifecycle.builder.create import PULL_POLICIES, CreateOptions, create_builder
from lifecycle.builder.inspect import BuilderInfo, inspect_builder

insecure_option = click.option(
    "--insecure-registry", "insecure", multiple=True, metavar="HOST",
    help="Reach this registry over plain HTTP (loopback registries always are).")


@click.group("builder")
def builder_group() -> None:
    """Create and inspect builder images (build image + lifecycle + buildpacks)."""


@builder_group.command("create")
@click.argument("name")
@click.option("-c", "--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="The builder.toml (pack's format).")
@click.option("--publish", is_flag=True, help="Push NAME to its registry instead of the store.")
@click.option("--pull-policy", type=click.Choice(PULL_POLICIES), default="if-not-present",
              show_default=True, help="When to read the build image from its registry.")
@insecure_option
def create_cmd(name: str, config_path: str, publish: bool, pull_policy: str,
               insecure: tuple[str, ...]) -> None:
    """Create the builder NAME from a builder.toml."""
    opts = CreateOptions(name=name, config=config_path, publish=publish,
                         pull_policy=pull_policy)
    result = create_builder(opts, client.Context(insecure))
    click.echo(f"{result.location}@{result.digest}")


@builder_group.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@insecure_option
def inspect_cmd(name: str, as_json: bool, insecure: tuple[str, ...]) -> None:
    """Show the buildpacks, order, run images and lifecycle of builder NAME."""
    info = inspect_builder(name, client.Context(insecure))
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2, sort_keys=True))
        return
    _print(info)


def _print(info: BuilderInfo) -> None:
    m = info.metadata
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"[bold]{info.location}[/bold]")
    out.print(f"  Digest:      {info.digest}")
    if m.description:
        out.print(f"  Description: {m.description}")
    out.print(f"  Created by:  {m.created_by_name} {m.created_by_version}".rstrip())
    out.print(f"  Platform:    {info.platform}" + (f" ({info.distro})" if info.distro else ""))
    if info.stack_id:
        out.print(f"  Stack:       {info.stack_id}")
    out.print(f"  User:        {info.user or '-'}    WorkingDir: {info.working_dir or '-'}")
    life = m.lifecycle
    out.print(f"  Lifecycle:   {life.version or '-'}  (Buildpack APIs "
              f"{', '.join(life.buildpack_supported) or '-'}; Platform APIs "
              f"{', '.join(life.platform_supported) or '-'})")
    runs = m.all_run_images()
    out.print("  Run images:" + ("" if runs else " (none)"))
    for r in runs:
        mirrors = f"  (mirrors: {', '.join(r.mirrors)})" if r.mirrors else ""
        out.print(f"    {r.image}{mirrors}")
    out.print(_buildpacks_table(info))
    out.print(_order_table(info))


def _buildpacks_table(info: BuilderInfo) -> Table:
    table = Table(title="Buildpacks", title_justify="left", expand=False)
    for col in ("ID", "Version", "API", "Homepage"):
        table.add_column(col)
    for b in info.metadata.buildpacks:
        layer = info.layers.get(b.id, {}).get(b.version)
        table.add_row(b.id, b.version, layer.api if layer else "", b.homepage)
    return table


def _order_table(info: BuilderInfo) -> Table:
    table = Table(title="Detection order", title_justify="left", expand=False)
    for col in ("Group", "Buildpack", "Optional"):
        table.add_column(col)
    pre, post = info.system
    for i, group in enumerate(info.order, 1):
        for j, ref in enumerate((*pre, *group, *post)):
            table.add_row(str(i) if j == 0 else "", str(ref), "yes" if ref.optional else "")
    return table
