"""The ``pypack`` command: a thin click CLI over ``lifecycle.client``."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="pypack")
def cli() -> None:
    """Build OCI images from source with Cloud Native Buildpacks: no Docker, no root."""


def main() -> None:
    cli()
