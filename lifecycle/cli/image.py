"""``pypack image``: import a root filesystem, copy and inspect images (any source or sink);
list, remove and prune the local image store (``ls``, ``rm``, ``prune``).

Thin click commands over ``lifecycle.client``; references are ``REF``, ``oci:DIR[:TAG]`` or
``docker-archive:FILE[:TAG]``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from lifecycle import client
from lifecycle.errors import UsageError
from lifecycle.store import Store, short


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, eq, val = v.partition("=")
        if not eq or not key:
            raise UsageError(f"{flag} {v!r}: want KEY=VALUE")
        out[key] = val
    return out


insecure_option = click.option(
    "--insecure-registry", "insecure", multiple=True, metavar="HOST",
    help="Reach this registry over plain HTTP (loopback registries always are).")


@click.group("image")
def image_group() -> None:
    """Import, copy and inspect images without a daemon."""


@image_group.command("import")
@click.argument("rootfs", type=click.Path(exists=True))
@click.option("--tag", "dest", required=True, help="Where to write the image.")
@click.option("--base", help="Image to put the layer on (default: none).")
@click.option("--entrypoint", multiple=True, help="Entrypoint argv item (repeatable).")
@click.option("--cmd", multiple=True, help="Cmd argv item (repeatable).")
@click.option("--env", multiple=True, metavar="K=V", help="Environment variable (repeatable).")
@click.option("--workdir", help="Working directory.")
@click.option("--user", help="User, UID[:GID].")
@click.option("--label", multiple=True, metavar="K=V", help="Label (repeatable).")
@click.option("--platform", help="os/arch[/variant] (default: host, or the base's).")
@insecure_option
def import_cmd(rootfs: str, dest: str, base: str | None, entrypoint: tuple[str, ...],
               cmd: tuple[str, ...], env: tuple[str, ...], workdir: str | None,
               user: str | None, label: tuple[str, ...], platform: str | None,
               insecure: tuple[str, ...]) -> None:
    """Make an image of ROOTFS (a directory or a tar file) as one layer."""
    opts = client.ImportOptions(
        rootfs=rootfs, dest=dest, base=base, entrypoint=entrypoint or None, cmd=cmd or None,
        env=_pairs(env, "--env"), workdir=workdir, user=user, labels=_pairs(label, "--label"),
        platform=platform)
    result = client.import_image(opts, client.Context(insecure))
    click.echo(f"{result.location}@{result.digest}")


@image_group.command("copy")
@click.argument("src")
@click.argument("dest")
@click.option("--platform", help="Pick this platform from a multi-arch source.")
@insecure_option
def copy_cmd(src: str, dest: str, platform: str | None, insecure: tuple[str, ...]) -> None:
    """Copy SRC to DEST; blobs DEST already has are skipped or mounted."""
    result = client.copy_image(src, dest, client.Context(insecure), platform)
    click.echo(f"{result.location}@{result.digest}")


@image_group.command("inspect")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--platform", help="Pick this platform from a multi-arch image.")
@insecure_option
def inspect_cmd(ref: str, as_json: bool, platform: str | None,
                insecure: tuple[str, ...]) -> None:
    """Show digest, platform, config, labels and layers of REF."""
    info = client.inspect_image(ref, client.Context(insecure), platform)
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    _print_info(info)


def _print_info(info: dict[str, Any]) -> None:
    echo = click.echo
    echo(info["location"])
    echo(f"  Digest:     {info['digest']}")
    echo(f"  Platform:   {info['platform']}")
    echo(f"  Created:    {info['created'] or '-'}")
    cfg = info["config"]
    for key in ("Entrypoint", "Cmd", "WorkingDir", "User", "Env"):
        if key in cfg:
            echo(f"  {key + ':':<12}{cfg[key]}")
    if info["labels"]:
        echo("  Labels:")
        for k in sorted(info["labels"]):
            echo(f"    {k}={info['labels'][k]}")
    echo(f"  Layers ({len(info['layers'])}, {info['size']:,} bytes in all):")
    for i, ly in enumerate(info["layers"]):
        echo(f"    {i:>3}  {ly['digest']}  {ly['size']:>14,}")


@image_group.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def ls_cmd(as_json: bool) -> None:
    """List the images in the local store (name, digest, created, size of the layers)."""
    st = client.Context().store
    rows: list[dict[str, Any]] = []
    for e in st.list():
        img = st.layout.image(e.name)
        rows.append({"name": short(e.name), "digest": str(e.digest),
                     "created": img.config().created or "",
                     "size": sum(ly.size for ly in img.layers())})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max([len(r["name"]) for r in rows] + [4])
    click.echo(f"{'NAME':<{width}}  {'DIGEST':<19}  {'CREATED':<20}  {'SIZE':>10}")
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['digest'][:19]:<19}  {r['created']:<20}  "
                   f"{_human(r['size']):>10}")


@image_group.command("rm")
@click.argument("names", nargs=-1, required=True)
@click.option("--prune", is_flag=True, help="Then delete blobs no image uses any more.")
def rm_cmd(names: tuple[str, ...], prune: bool) -> None:
    """Remove NAMES from the local store (their blobs stay until `pypack image prune`)."""
    st = client.Context().store
    for name in names:
        st.remove(name)
        click.echo(f"removed {name}")
    if prune:
        _prune(st)


@image_group.command("prune")
def prune_cmd() -> None:
    """Delete blobs and unpacked root file systems of the local store that no named image
    uses (builders and run images from elsewhere are unpacked again when next needed)."""
    _prune(client.Context().store)


def _prune(st: Store) -> None:
    from lifecycle.sandbox import rootfs

    click.echo(f"pruned {st.prune()} blobs")
    dirs, nbytes = rootfs.prune(st)
    click.echo(f"pruned {dirs} unpacked root file systems ({_human(nbytes)})")


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
