"""``pypack stack``: build a stack's base images (issue #5, "Stacks"). Thin over
:mod:`lifecycle.stack.build`."""

from __future__ import annotations

import click

from lifecycle.stack import build as stack_build


@click.group("stack")
def stack_group() -> None:
    """Base images (build and run) made from distribution packages."""


@stack_group.command("build")
@click.argument("stack")
@click.option("--mirror", "mirrors", multiple=True, metavar="URL",
              help="Package mirror URL or 'deb URI SUITE COMPONENT...' line (repeatable; "
                   "default: the stack's mirror, else the host's apt sources).")
@click.option("--update", is_flag=True, help="Ignore stack.lock: take the newest packages "
                                             "and rewrite the lock.")
@click.option("--rebuild", is_flag=True, help="Build even when the stored images are up to "
                                              "date.")
def build_cmd(stack: str, mirrors: tuple[str, ...], update: bool, rebuild: bool) -> None:
    """Build STACK (a name under stacks/, a directory or a stack.toml) into the local store."""
    opts = stack_build.StackBuildOptions(stack, mirrors, update, rebuild)
    result = stack_build.build(opts)
    for img in result.images:
        click.echo(f"{img.name}@{img.digest}")
    state = "up to date" if result.up_to_date else f"built in {result.seconds:.1f} s"
    lock = f", wrote {result.lock_path}" if result.lock_written else ""
    click.echo(f"stack {result.stack}: {state}{lock}", err=True)
