"""Where an image is looked for and what "not found" means (lifecycle.client.open_image,
lifecycle.platform.images.ClientImages.find)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.client import Context, open_image
from lifecycle.errors import ImageNotFoundError, RegistryError
from lifecycle.platform.images import ClientImages


def test_a_store_name_that_is_missing_is_not_found(tmp_path: Path) -> None:
    ctx = Context(store_root=str(tmp_path))
    with pytest.raises(ImageNotFoundError, match="not in the local store"):
        open_image("store:acme/none", ctx)
    assert ClientImages(ctx).find("store:acme/none") is None


def test_an_unknown_registry_host_fails_at_once_naming_both_places(tmp_path: Path) -> None:
    ctx = Context(store_root=str(tmp_path))
    with pytest.raises(RegistryError) as e:
        open_image("registry.invalid/acme/app", ctx)
    # "no such host": DNS said the host does not exist, so it was not retried
    assert "not in the local store" in str(e.value) and "no such host" in str(e.value)
    # an unreachable registry is an error, never "the image does not exist"
    with pytest.raises(RegistryError):
        ClientImages(ctx).find("registry.invalid/acme/app")
