"""``pypack config``: show and edit the user's config file (``lifecycle.config``), as pack's
``config`` does: ``default-builder [NAME|--unset]``, ``trusted-builders add|remove|list``,
``run-image-mirrors add IMAGE -m MIRROR|remove IMAGE [-m MIRROR]|list [IMAGE]``,
``registry-mirrors add REGISTRY -m MIRROR|remove REGISTRY|list``, ``show [--json]``, ``path``.
A group without a subcommand lists.
"""

from __future__ import annotations

import json

import click

from lifecycle.config import PypackConfig, config_path, load_config, same_image, save_config
from lifecycle.errors import UsageError
from lifecycle.oci.reference import Reference


def _save(cfg: PypackConfig, before: PypackConfig) -> bool:
    if cfg == before:
        return False
    save_config(cfg)
    return True


def _check_ref(name: str, what: str) -> None:
    if name == "default":
        return
    try:
        Reference.parse(name)
    except UsageError as e:
        raise UsageError(f"{what}: {e}") from e


@click.group("config", invoke_without_command=True)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Show and edit pypack's config file ($PYPACK_CONFIG or ~/.config/pypack/config.toml)."""
    if ctx.invoked_subcommand is None:
        _show(load_config(), as_json=False)


@config_group.command("path")
def path_cmd() -> None:
    """Print where the config file is."""
    click.echo(str(config_path()))


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="The file's table as JSON.")
def show_cmd(as_json: bool) -> None:
    """Show the whole configuration."""
    _show(load_config(), as_json)


def _show(cfg: PypackConfig, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(cfg.to_toml(), indent=2, sort_keys=True))
        return
    click.echo(f"Config file: {config_path()}")
    click.echo(f"Default builder: {cfg.default_builder or '(not set)'}")
    _list_trusted(cfg)
    _list_run_images(cfg, None)
    _list_registry_mirrors(cfg)


# --- default-builder ----------------------------------------------------------------------------
@config_group.command("default-builder")
@click.argument("name", required=False)
@click.option("-u", "--unset", is_flag=True, help="Unset the default builder.")
def default_builder_cmd(name: str | None, unset: bool) -> None:
    """Show, set (NAME) or unset (--unset) the builder `pypack build` uses by default."""
    cfg = load_config()
    if unset and name:
        raise UsageError("give a builder NAME or --unset, not both")
    if unset:
        if cfg.default_builder is None:
            click.echo("No default builder was set")
            return
        _save(cfg.with_default_builder(None), cfg)
        click.echo(f"Successfully unset default builder {cfg.default_builder}")
        return
    if name is None:
        click.echo(f"The current default builder is {cfg.default_builder}"
                   if cfg.default_builder else "No default builder is set")
        return
    _check_ref(name, "default-builder")
    _save(cfg.with_default_builder(name), cfg)
    click.echo(f"Builder {name} is now the default builder")


# --- trusted-builders ---------------------------------------------------------------------------
@config_group.group("trusted-builders", invoke_without_command=True)
@click.pass_context
def trusted_group(ctx: click.Context) -> None:
    """List, add and remove trusted builders."""
    if ctx.invoked_subcommand is None:
        _list_trusted(load_config())


def _list_trusted(cfg: PypackConfig) -> None:
    click.echo("Trusted Builders:")
    for b in cfg.all_trusted_builders():
        click.echo(f"  {b}")


@trusted_group.command("list")
def trusted_list() -> None:
    """List the trusted builders (known ones and the ones you added)."""
    _list_trusted(load_config())


@trusted_group.command("add")
@click.argument("name")
def trusted_add(name: str) -> None:
    """Trust builder NAME."""
    _check_ref(name, "trusted-builders add")
    cfg = load_config()
    if _save(cfg.with_trusted_builder(name), cfg):
        click.echo(f"Builder {name} is now trusted")
    else:
        click.echo(f"Builder {name} is already trusted")


@trusted_group.command("remove")
@click.argument("name")
def trusted_remove(name: str) -> None:
    """Stop trusting builder NAME."""
    cfg = load_config()
    if _save(cfg.without_trusted_builder(name), cfg):
        click.echo(f"Builder {name} is no longer trusted")
    else:
        click.echo(f"Builder {name} wasn't trusted")


# --- run-image-mirrors --------------------------------------------------------------------------
@config_group.group("run-image-mirrors", invoke_without_command=True)
@click.pass_context
def run_mirrors_group(ctx: click.Context) -> None:
    """List, add and remove local mirrors of run images."""
    if ctx.invoked_subcommand is None:
        _list_run_images(load_config(), None)


def _list_run_images(cfg: PypackConfig, image: str | None) -> None:
    runs = [r for r in cfg.run_images if image is None or same_image(r.image, image)]
    if not runs:
        click.echo("No run image mirrors have been set" + (f" for {image}" if image else ""))
        return
    click.echo("Run Image Mirrors:")
    for r in runs:
        click.echo(f"  {r.image}:")
        for m in r.mirrors:
            click.echo(f"    {m}")


@run_mirrors_group.command("list")
@click.argument("image", required=False)
def run_mirrors_list(image: str | None) -> None:
    """List the local run-image mirrors (of IMAGE only, if given)."""
    _list_run_images(load_config(), image)


@run_mirrors_group.command("add")
@click.argument("image")
@click.option("-m", "--mirror", "mirrors", multiple=True, required=True, metavar="MIRROR",
              help="A mirror of IMAGE (repeatable).")
def run_mirrors_add(image: str, mirrors: tuple[str, ...]) -> None:
    """Add local mirrors of run image IMAGE."""
    for n in (image, *mirrors):
        _check_ref(n, "run-image-mirrors add")
    cfg = load_config()
    _save(cfg.with_run_image_mirrors(image, mirrors), cfg)
    for m in mirrors:
        click.echo(f"Run Image {image} configured with mirror {m}")


@run_mirrors_group.command("remove")
@click.argument("image")
@click.option("-m", "--mirror", "mirrors", multiple=True, metavar="MIRROR",
              help="Remove only this mirror (repeatable); default: all of IMAGE's mirrors.")
def run_mirrors_remove(image: str, mirrors: tuple[str, ...]) -> None:
    """Remove local mirrors of run image IMAGE."""
    cfg = load_config()
    if not _save(cfg.without_run_image_mirrors(image, mirrors), cfg):
        click.echo(f"No run image mirrors have been set for {image}")
    elif mirrors:
        click.echo(f"Removed mirrors {', '.join(mirrors)} for {image}")
    else:
        click.echo(f"Removed all run image mirrors for {image}")


# --- registry-mirrors ---------------------------------------------------------------------------
@config_group.group("registry-mirrors", invoke_without_command=True)
@click.pass_context
def registry_mirrors_group(ctx: click.Context) -> None:
    """List, add and remove registry mirrors."""
    if ctx.invoked_subcommand is None:
        _list_registry_mirrors(load_config())


def _list_registry_mirrors(cfg: PypackConfig) -> None:
    if not cfg.registry_mirrors:
        click.echo("No registry mirrors have been set")
        return
    click.echo("Registry Mirrors:")
    for registry, mirror in sorted(cfg.registry_mirrors.items()):
        click.echo(f"  {registry}: {mirror}")


@registry_mirrors_group.command("list")
def registry_mirrors_list() -> None:
    """List the registry mirrors."""
    _list_registry_mirrors(load_config())


@registry_mirrors_group.command("add")
@click.argument("registry")
@click.option("-m", "--mirror", required=True, metavar="MIRROR",
              help="The mirror host[/path] to use for REGISTRY.")
def registry_mirrors_add(registry: str, mirror: str) -> None:
    """Use MIRROR for REGISTRY ('*' for every registry)."""
    if not registry.strip() or "/" in registry:
        raise UsageError(f"registry-mirrors add: {registry!r} is not a registry host (or '*')")
    cfg = load_config()
    _save(cfg.with_registry_mirror(registry, mirror), cfg)
    click.echo(f"Registry {registry} configured with mirror {mirror}")


@registry_mirrors_group.command("remove")
@click.argument("registry")
def registry_mirrors_remove(registry: str) -> None:
    """Forget the mirror of REGISTRY."""
    cfg = load_config()
    if _save(cfg.without_registry_mirror(registry), cfg):
        click.echo(f"Removed mirror for {registry}")
    else:
        click.echo(f"No registry mirror has been set for {registry}")
