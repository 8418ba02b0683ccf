"""``pypack rebase IMAGE``: put an app image on a new run image without rebuilding (pack's
``rebase``). Images in the local store are rebased in the store; with ``--publish`` the
registry image is rebased by the ``rebaser`` phase logic (no layer bytes move)."""

from __future__ import annotations

import logging

import click

from lifecycle import api
from lifecycle.client import Context, open_image, write_image
from lifecycle.errors import RebaseError
from lifecycle.oci.image import digest as image_digest
from lifecycle.phases import rebase as rb

log = logging.getLogger("lifecycle")


@click.command("rebase")
@click.argument("image")
@click.option("--run-image", help="The new run image (default: the one the image names).")
@click.option("--publish", is_flag=True, help="IMAGE is in a registry; push the result there.")
@click.option("--force", is_flag=True, help="Rebase even if the image says it is not rebasable.")
@click.option("--insecure-registry", multiple=True, help="Registry reachable over plain HTTP.")
def rebase_command(image: str, run_image: str | None, publish: bool, force: bool,
                   insecure_registry: tuple[str, ...]) -> None:
    """Swap IMAGE's run image layers for a newer run image's."""
    ctx = Context(insecure_registries=insecure_registry)
    platform_api = api.PLATFORM_APIS[-1]
    if publish:
        result = rb.rebase(rb.RebaserInputs(images=(image,), platform_api=platform_api,
                                            run_image=run_image, force=force,
                                            insecure_registries=insecure_registry),
                           ctx.registry)
        click.echo(f"Rebased {image} ({result.digest})")
        return
    location = f"store:{image}"
    app = open_image(location, ctx)
    md = rb.app_metadata(app.config())
    run_name = run_image or md.run_image.image or (md.stack.image if md.stack else "")
    if not run_name:
        raise RebaseError(f"{image}: no --run-image given and the image names no run image")
    new_base = open_image(run_name, ctx, app.config().platform)
    base = rb.NewBase(new_base.config(), run_name, run_name)
    plan = rb.plan_rebase(app.config(), base, force=force, platform_api=platform_api,
                          created=rb.created_time())
    for w in plan.warnings:
        log.warning("rebase %s: %s", image, w)
    done = write_image(rb.apply_plan(app, new_base, plan), location, ctx)
    click.echo(f"Rebased {image} onto {run_name} ({done.digest}; base "
               f"{image_digest(new_base)})")
