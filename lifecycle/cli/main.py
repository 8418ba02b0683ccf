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


class _Group(click.Group):
    """Maps click usage errors to exit 3 and LifecycleErrors to one line + their exit code."""

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
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("lifecycle")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


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


# (module, attribute) of each command; a module not written yet is skipped, so parts of the CLI
# can land independently.
_COMMANDS = (
    ("lifecycle.cli.image", "image_group"),
    ("lifecycle.cli.stack", "stack_group"),
    ("lifecycle.cli.builder", "builder_group"),
    ("lifecycle.cli.buildpack", "buildpack_group"),
    ("lifecycle.cli.build", "build_command"),
    ("lifecycle.cli.run", "run_command"),
    ("lifecycle.cli.rebase", "rebase_command"),
    ("lifecycle.cli.inspect", "inspect_command"),
    ("lifecycle.cli.sbom", "sbom_group"),
    ("lifecycle.cli.config", "config_group"),
)


def _register() -> None:
    import importlib
    import importlib.util

    for module, attr in _COMMANDS:
        if importlib.util.find_spec(module) is None:
            continue
        cli.add_command(getattr(importlib.import_module(module), attr))


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pypack")


if __name__ == "__main__":
    main()
