"""``pypack sbom download IMAGE [--output-dir DIR]``: a thin click command over ``lifecycle.sbom``.

Like pack's ``sbom download``: the image's launch SBOM layer is extracted so its files land in
``DIR/layers/sbom/launch/<buildpack>[/<layer>]/sbom.<ext>``; an image without an SBOM is an
error that says so.
"""

from __future__ import annotations

import click

from lifecycle import client
from lifecycle.sbom import download_sbom


@click.group("sbom")
def sbom_group() -> None:
    """The Software Bill-of-Materials of app images."""


@sbom_group.command("download")
@click.argument("image")
@click.option("-o", "--output-dir", default=".", show_default=True,
              type=click.Path(file_okay=False),
              help="Where to write layers/sbom/launch/...")
@click.option("--remote", is_flag=True,
              help="Read IMAGE from its registry even when the local store has that name.")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Reach this registry over plain HTTP (loopback registries always are).")
def download_cmd(image: str, output_dir: str, remote: bool, insecure: tuple[str, ...]) -> None:
    """Download the SBOM layer of IMAGE into OUTPUT_DIR/layers/sbom/launch."""
    result = download_sbom(image, output_dir, client.Context(insecure), remote=remote)
    for f in result.files:
        click.echo(f"  {f}")
    click.echo(f"Wrote {len(result.files)} SBOM file(s) of {image} to {result.launch_dir}")
