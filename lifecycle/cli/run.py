"""``pypack run IMAGE [-- ARGS]``: run an image's process rootless, with no container engine.

A thin click command over ``lifecycle.sandbox.run``; the program's exit status becomes
pypack's.
"""

from __future__ import annotations

import sys

import click

from lifecycle.cli.image import insecure_option
from lifecycle.errors import UsageError
from lifecycle.sandbox.run import RunOptions, run_image


def _env(values: tuple[str, ...]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for v in values:
        key, eq, val = v.partition("=")
        if not key:
            raise UsageError(f"--env {v!r}: want KEY=VALUE (or KEY to pass the host's value)")
        out[key] = val if eq else None
    return out


@click.command("run")
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--process", "process", metavar="TYPE",
              help="Run /cnb/process/TYPE (a CNB app image's process type).")
@click.option("--env", "-e", multiple=True, metavar="K=V",
              help="Set a variable (K alone: the host's value); repeatable.")
@click.option("--host-ca/--no-host-ca", default=False,
              help="Trust the host's CA bundle inside (default: the image's own CAs).")
@click.option("--network/--no-network", default=True,
              help="Share the host network (default) or only a private loopback.")
@click.option("--read-only-workdir", is_flag=True,
              help="Do not give the app a writable copy of its working directory.")
@insecure_option
def run_command(image: str, args: tuple[str, ...], process: str | None, env: tuple[str, ...],
                host_ca: bool, network: bool, read_only_workdir: bool,
                insecure: tuple[str, ...]) -> None:
    """Run IMAGE's process (from the local store first) rootless, with the host network.

    ARGS (after --) replace the image's Cmd, or follow /cnb/process/TYPE with --process.
    """
    if args[:1] == ("--",):  # options end at IMAGE, so click keeps a following "--"
        args = args[1:]
    opts = RunOptions(image=image, process=process, args=args, env=_env(env),
                      host_ca=host_ca, network=network, read_only_workdir=read_only_workdir)
    sys.exit(run_image(opts, insecure_registries=insecure))
