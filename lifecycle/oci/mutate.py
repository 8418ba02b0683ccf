"""Functions that return changed copies of images (the inputs are never modified).

OCI image-spec "config.md" (run config, history, created) and "manifest.md". Modelled on
go-containerregistry's ``mutate``: each function takes an Image and returns a new ImageValue
whose manifest and config bytes are rewritten canonically; layers are shared, not copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from lifecycle.errors import ImageError
from lifecycle.oci.config import ConfigFile, History, RunConfig
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layer import Layer
from lifecycle.oci.platform import Platform


def with_config(img: Image, config: ConfigFile) -> ImageValue:
    """``img`` with configuration ``config`` (its diff IDs are reset from the layers)."""
    m = img.manifest()
    return ImageValue.build(config, img.layers(), manifest_media_type=m.media_type,
                            annotations=m.annotations)


def with_run_config(img: Image, **changes: Any) -> ImageValue:
    """``img`` with ``RunConfig`` fields replaced, e.g. ``with_run_config(img, user="1000")``."""
    cfg = img.config()
    return with_config(img, replace(cfg, config=replace(cfg.config, **changes)))


def _run(img: Image) -> RunConfig:
    return img.config().config


def with_labels(img: Image, labels: Mapping[str, str], *, merge: bool = True) -> ImageValue:
    """``img`` with ``labels`` added (``merge``) or as the only labels."""
    new = {**_run(img).labels, **labels} if merge else dict(labels)
    return with_run_config(img, labels=new)


def with_env(img: Image, env: Mapping[str, str], *, merge: bool = True) -> ImageValue:
    """``img`` with environment variables set; existing order is kept, new names appended."""
    current: dict[str, str] = {}
    if merge:
        for item in _run(img).env:
            k, _, v = item.partition("=")
            current[k] = v
    current.update(env)
    return with_run_config(img, env=tuple(f"{k}={v}" for k, v in current.items()))


def with_entrypoint(img: Image, entrypoint: Sequence[str] | None) -> ImageValue:
    """``img`` with this entrypoint (None unsets it)."""
    return with_run_config(img, entrypoint=None if entrypoint is None else tuple(entrypoint))


def with_cmd(img: Image, cmd: Sequence[str] | None) -> ImageValue:
    """``img`` with this cmd (None unsets it)."""
    return with_run_config(img, cmd=None if cmd is None else tuple(cmd))


def with_workdir(img: Image, workdir: str | None) -> ImageValue:
    """``img`` with this working directory."""
    return with_run_config(img, working_dir=workdir)


def with_user(img: Image, user: str | None) -> ImageValue:
    """``img`` running as ``user`` (``name``, ``uid`` or ``uid:gid``)."""
    return with_run_config(img, user=user)


def rfc3339(when: dt.datetime | int) -> str:
    """``when`` (a datetime or Unix seconds) as RFC 3339 UTC, e.g. ``1980-01-01T00:00:01Z``."""
    if isinstance(when, int):
        when = dt.datetime.fromtimestamp(when, dt.UTC)
    if when.tzinfo is None:
        raise ImageError(f"created time {when} has no timezone")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_created(img: Image, when: dt.datetime | int | None) -> ImageValue:
    """``img`` with its ``created`` time set (None removes it)."""
    created = None if when is None else rfc3339(when)
    return with_config(img, replace(img.config(), created=created))


def with_platform(img: Image, platform: Platform) -> ImageValue:
    """``img`` declaring ``platform`` in its config (the layers are not checked)."""
    return with_config(img, img.config().with_platform(platform))


def with_annotations(img: Image, annotations: Mapping[str, str]) -> ImageValue:
    """``img`` with manifest annotations merged in."""
    m = img.manifest()
    return ImageValue.build(img.config(), img.layers(), manifest_media_type=m.media_type,
                            annotations={**m.annotations, **annotations})


def append_layers(img: Image, layers: Iterable[Layer], *,
                  history: Sequence[History] | None = None) -> ImageValue:
    """``img`` with ``layers`` on top; one history entry per layer (given, or empty)."""
    new = tuple(layers)
    hist = tuple(history) if history is not None else tuple(History() for _ in new)
    if len(hist) != len(new):
        raise ImageError(f"append_layers: {len(new)} layers but {len(hist)} history entries")
    cfg = img.config()
    cfg = replace(cfg, history=cfg.history + hist if cfg.history or hist else ())
    m = img.manifest()
    return ImageValue.build(cfg, img.layers() + new, manifest_media_type=m.media_type,
                            annotations=m.annotations)


def rebase(img: Image, old_base: Image, new_base: Image) -> ImageValue:
    """``img``'s layers above ``old_base`` put on top of ``new_base`` (config from ``img``,
    history of the base part from ``new_base``). ImageError unless ``img`` starts with
    ``old_base``'s layers."""
    old = [ly.diff_id for ly in old_base.layers()]
    mine = img.layers()
    if [ly.diff_id for ly in mine[: len(old)]] != old:
        raise ImageError("rebase: image does not start with the old base's layers")
    cfg = img.config()
    own_hist = cfg.history[len(old_base.config().history):]
    hist = new_base.config().history + own_hist if cfg.history else ()
    layers = new_base.layers() + mine[len(old):]
    return ImageValue.build(replace(cfg, history=hist), layers,
                            manifest_media_type=img.manifest().media_type,
                            annotations=img.manifest().annotations)
