"""The ``pypack`` command: a thin click CLI over ``lifecycle.client``.

Each command turns its options into a dataclass and calls the client; errors from
``lifecycle.errors`` become one line on stderr and the error's exit code (a traceback only with
``--verbose``); click usage errors exit 3, as the lifecycle's invalid-argument code.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import click

from lifecycle.errors import LifecycleError

log = logging.getLogger("lifecycle")


# name -> (module, attribute) of each command, imported when it is invoked (or listed by
# --help): a ``pypack build`` does not pay for importing every other command (~0.1 s).
_COMMANDS = {
    "image": ("lifecycle.cli.image", "image_group"),
    "stack": ("lifecycle.cli.stack", "stack_group"),
    "builder": ("lifecycle.cli.builder", "builder_group"),
    "buildpack": ("lifecycle.cli.buildpack", "buildpack_group"),
    "build": ("lifecycle.cli.build", "build_command"),
    "run": ("lifecycle.cli.run", "run_command"),
    "rebase": ("lifecycle.cli.rebase", "rebase_command"),
    "inspect": ("lifecycle.cli.inspect", "inspect_command"),
    "sbom": ("lifecycle.cli.sbom", "sbom_group"),
    "config": ("lifecycle.cli.config", "config_group"),
}


class _Group(click.Group):
    """Maps click usage errors to exit 3 and LifecycleErrors to one line + their exit code;
    imports the ``_COMMANDS`` modules only when they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            import importlib

            module, attr = _COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.UsageError as e:
            e.show()
            sys.exit(3)
        except click.ClickException as e:
            e.show()
            sys.exit(1)
        except LifecycleError as e:
            click.echo(f"ERROR: {e}", err=True)
            if _verbose():
                traceback.print_exc()
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as e:  # a bug: one line, the traceback with --verbose
            click.echo(f"ERROR: unexpected {type(e).__name__}: {e} (run with --verbose for "
                       "the traceback, and please report it)", err=True)
            if _verbose():
                traceback.print_exc()
            sys.exit(1)


def _verbose() -> bool:
    return "--verbose" in sys.argv or "-v" in sys.argv


@click.group(cls=_Group)
@click.version_option(package_name="pypack")
@click.option("-v", "--verbose", is_flag=True, help="Debug logs and tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: bool, quiet: bool) -> None:
    """Build OCI images from source with Cloud Native Buildpacks: no Docker, no root."""
    import os

    from lifecycle import progress

    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("lifecycle")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    setting = "off" if quiet else os.environ.get("PYPACK_PROGRESS", "auto")
    reporter = progress.for_terminal(sys.stderr, setting)
    progress.install(reporter)
    click.get_current_context().call_on_close(reporter.close)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, so log lines print above rich's
    progress bars (which redirect it while they show)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@cli.group("lifecycle")
def lifecycle_group() -> None:
    """The lifecycle phase programs, for platforms."""


@lifecycle_group.command("install")
@click.argument("dest", type=click.Path(file_okay=False))
def lifecycle_install(dest: str) -> None:
    """Write analyzer, detector, ..., launcher into DEST (e.g. /cnb/lifecycle)."""
    from lifecycle.cli.lifecycle_install import install

    for path in install(dest):
        click.echo(str(path))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pypack")


if __name__ == "__main__":
    main()
