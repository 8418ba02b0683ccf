"""``pypack inspect IMAGE``: a thin click command over ``lifecycle.inspect`` (pack's ``inspect``).

Shows the base image, run images (local mirrors from the user's config first), rebasable,
buildpacks, processes, the project source and the lifecycle metadata as rich tables; ``--json``
prints pack's JSON envelope; ``--bom`` prints the image's SBOM documents as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from lifecycle import client
from lifecycle.config import load_config
from lifecycle.inspect import ImageInfo, inspect_image, open_app_image

insecure_option = click.option(
    "--insecure-registry", "insecure", multiple=True, metavar="HOST",
    help="Reach this registry over plain HTTP (loopback registries always are).")


@click.command("inspect")
@click.argument("image")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (pack's shape).")
@click.option("--bom", is_flag=True,
              help="Print the SBOM documents of the image as JSON (see `pypack sbom download`).")
@click.option("--remote", is_flag=True,
              help="Read IMAGE from its registry even when the local store has that name.")
@insecure_option
def inspect_command(image: str, as_json: bool, bom: bool, remote: bool,
                    insecure: tuple[str, ...]) -> None:
    """Show how the app IMAGE was built: base and run images, buildpacks, processes, SBOM."""
    ctx = client.Context(insecure)
    if bom:
        from lifecycle.sbom import read_documents

        opened = open_app_image(image, ctx, remote=remote)
        docs = read_documents(opened.image, image, missing_ok=True)
        click.echo(json.dumps({"image_name": image, "source": opened.source,
                               "sbom": [d.to_dict() for d in docs]}, indent=2))
        return
    info = inspect_image(image, ctx, remote=remote, local_mirrors=load_config().local_mirrors)
    if as_json:
        from lifecycle.inspect import output

        click.echo(json.dumps(output(info), indent=2))
        return
    _print(info)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def _print(info: ImageInfo) -> None:
    out = _console()
    md = info.metadata
    out.print(f"Inspecting image: [bold]{info.name}[/bold] ({info.source})\n", markup=True)
    out.print(f"Digest:       {info.digest}")
    out.print(f"Platform:     {info.platform}")
    if info.platform_api:
        out.print(f"Platform API: {info.platform_api}")
    if info.stack_id:
        out.print(f"Stack:        {info.stack_id}")
    out.print("\nBase Image:")
    if md.run_image.reference:
        out.print(f"  Reference: {md.run_image.reference}")
    out.print(f"  Top Layer: {md.run_image.top_layer or '-'}")
    for key, value in info.base_labels.items():
        out.print(f"  {key.removeprefix('io.buildpacks.base.')}: {value}")
    out.print("\nRun Images:")
    for r in info.run_images:
        notes = [n for n, on in (("user-configured", r.user_configured),
                                 ("preferred", r.preferred)) if on]
        out.print(f"  {r.name}" + (f"  ({', '.join(notes)})" if notes else ""))
    if not info.run_images:
        out.print("  (none)")
    out.print(f"\nRebasable: {'true' if info.rebasable else 'false'}\n")
    out.print(_modules_table("Buildpacks", info.buildpacks, "(buildpack metadata not present)"))
    if info.extensions:
        out.print()
        out.print(_modules_table("Extensions", info.extensions, ""))
    if info.processes:
        out.print()
        out.print(_processes_table(info))
    _print_project(out, info.project.to_dict().get("source"))
    _print_lifecycle(out, info)


def _modules_table(title: str, modules: Any, empty: str) -> Table | str:
    if not modules:
        return f"{title}:\n  {empty}"
    table = Table(title=f"{title}:", title_justify="left", expand=False)
    for col in ("ID", "VERSION", "HOMEPAGE"):
        table.add_column(col)
    for m in modules:
        table.add_row(m.id, m.version, m.homepage or "-")
    return table


def _processes_table(info: ImageInfo) -> Table:
    table = Table(title="Processes:", title_justify="left", expand=False)
    for col in ("TYPE", "SHELL", "COMMAND", "ARGS", "WORK DIR"):
        table.add_column(col)
    for p in info.processes:
        table.add_row(f"{p.type} (default)" if p.default else p.type, p.shell, p.command,
                      " ".join(p.args), p.working_dir)
    return table


def _print_project(out: Console, source: Mapping[str, Any] | None) -> None:
    out.print("\nProject Source:")
    if not source:
        out.print("  (none)")
        return
    out.print(f"  Type: {source.get('type') or '-'}")
    for section in ("version", "metadata"):
        for key, value in sorted((source.get(section) or {}).items()):
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            out.print(f"  {key}: {text}")


def _print_lifecycle(out: Console, info: ImageInfo) -> None:
    md, launcher = info.metadata, info.build.launcher
    out.print("\nLifecycle:")
    out.print(f"  Launcher:      {launcher.version or '-'}  {md.launcher}".rstrip())
    out.print(f"  Exec env:      {md.exec_env or '-'}")
    out.print(f"  App layers:    {len(md.app)}")
    out.print(f"  Config layer:  {md.config or '-'}")
    out.print(f"  SBOM layer:    {md.sbom or '(none)'}")
    table = Table(title="Buildpack layers:", title_justify="left", expand=False)
    for col in ("BUILDPACK", "LAYER", "TYPES", "DIFF ID"):
        table.add_column(col)
    rows = 0
    for bp in md.buildpacks:
        for name, layer in sorted(bp.layers.items()):
            types = ",".join(t for t, on in (("launch", layer.launch), ("build", layer.build),
                                             ("cache", layer.cache)) if on)
            table.add_row(f"{bp.key}@{bp.version}" if bp.version else bp.key, name, types,
                          layer.sha or "-")
            rows += 1
    if rows:
        out.print()
        out.print(table)
