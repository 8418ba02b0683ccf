"""How phases open the images they name: a registry, or the spec's OCI layout directory.

Platform API 0.15 platform.md "Map an image reference to a path in the layout directory"
(``-layout``/``-layout-dir``, experimental): a reference ``<registry>/<repo>:<tag>`` is the
layout ``<layout-dir>/<registry>/<repo>/<tag>``, a digest reference
``<layout-dir>/<registry>/<repo>/<algorithm>/<hex>``. pypack's own build reads from its
local store through ``lifecycle.client`` instead; phases take whichever :class:`Images` fits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lifecycle.errors import ImageError, ImageNotFoundError, RegistryNotFoundError
from lifecycle.oci.image import Image
from lifecycle.oci.layout import Layout
from lifecycle.oci.reference import Reference

if TYPE_CHECKING:  # lifecycle.client imports this module's neighbours; import it lazily
    from lifecycle.client import Context
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger("lifecycle")


class Images(Protocol):
    """Opens images by name."""

    def open(self, name: str) -> Image:
        """The image ``name``; ImageError (or RegistryNotFoundError) if it cannot be read."""

    def find(self, name: str) -> Image | None:
        """The image ``name``, or None when it does not exist."""


def layout_path(layout_dir: str, ref: Reference) -> Path:
    """The spec's mapping of ``ref`` to a directory under ``layout_dir``."""
    base = Path(layout_dir) / ref.registry / ref.repository
    if ref.digest is not None:
        return base / ref.digest.algorithm / ref.digest.hex
    return base / (ref.tag or "latest")


@dataclass(frozen=True)
class RegistryImages:
    """Images in registries."""

    client: RegistryClient

    def open(self, name: str) -> Image:
        """Read ``name`` from its registry (verified)."""
        from lifecycle.oci.remote import read_image

        return read_image(self.client, Reference.parse(name))

    def find(self, name: str) -> Image | None:
        """None when the registry says the image or repository does not exist."""
        try:
            return self.open(name)
        except RegistryNotFoundError:
            return None


@dataclass(frozen=True)
class LayoutImages:
    """Images in the spec's layout directory."""

    layout_dir: str

    def _layout(self, name: str) -> Layout:
        ref = Reference.parse(name)
        path = layout_path(self.layout_dir, ref)
        if not (path / "index.json").is_file():
            # a path written as is (the analyzer records the layout path of the run image)
            direct = Path(name)
            if (direct / "index.json").is_file():
                return Layout(direct)
            raise ImageNotFoundError(f"image {name}: no OCI layout at {path}")
        return Layout(path)

    def open(self, name: str) -> Image:
        """The only (or ``latest``) image of the layout ``name`` maps to."""
        lay = self._layout(name)
        refs = lay.refs()
        return lay.image(refs[0] if len(refs) == 1 else None) if refs else lay.image()

    def find(self, name: str) -> Image | None:
        """None when there is no layout for ``name``."""
        try:
            return self.open(name)
        except ImageError as e:
            log.debug("image %s not found in layout: %s", name, e)
            return None


@dataclass(frozen=True)
class ClientImages:
    """pypack's view: the local store first, then ``oci:``/``docker-archive:``/registries."""

    ctx: Context

    def open(self, name: str) -> Image:
        """Through ``lifecycle.client.open_image``."""
        from lifecycle.client import open_image

        return open_image(name, self.ctx)

    def find(self, name: str) -> Image | None:
        """None when the store and the registry have no such image."""
        try:
            return self.open(name)
        except (RegistryNotFoundError, ImageNotFoundError):
            return None
