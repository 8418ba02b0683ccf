"""Where an image lives, as the user writes it: a registry reference, ``oci:DIR[:TAG]`` for an OCI
image layout, ``docker-archive:FILE[:TAG]`` for a ``docker load`` tarball, or ``store:NAME``
for pypack's local image store (``lifecycle.store``).

``docker://REF`` is accepted as an explicit registry reference (skopeo's spelling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lifecycle.errors import UsageError

Transport = Literal["registry", "oci", "docker-archive", "store"]


@dataclass(frozen=True, slots=True)
class Locator:
    """A parsed image location: ``transport`` plus ``path`` (file/dir) or registry ``ref``."""

    transport: Transport
    ref: str
    tag: str | None = None

    def __str__(self) -> str:
        if self.transport == "registry":
            return self.ref
        return f"{self.transport}:{self.ref}" + (f":{self.tag}" if self.tag else "")


def parse_locator(text: str, default_tag: str = "latest") -> Locator:
    """Parse ``oci:DIR[:TAG]``, ``docker-archive:FILE[:TAG]``, ``docker://REF`` or ``REF``.

    For files and layouts the tag is what follows the last ``:`` after the path (a path may not
    itself contain ``:``); a missing tag is ``default_tag`` for layouts and ``None`` for archives.
    """
    if not text:
        raise UsageError("empty image reference")
    for prefix in ("oci:", "oci-layout:", "docker-archive:"):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            path, _, tag = rest.partition(":")
            if not path:
                raise UsageError(f"{text!r}: missing path after {prefix!r}")
            transport: Transport = "docker-archive" if prefix == "docker-archive:" else "oci"
            if transport == "oci" and not tag:
                tag = default_tag
            return Locator(transport, path, tag or None)
    if text.startswith("store:"):
        if not text[len("store:"):]:
            raise UsageError(f"{text!r}: missing image name after 'store:'")
        return Locator("store", text[len("store:"):])
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    return Locator("registry", text)
