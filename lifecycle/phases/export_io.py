"""Where an exported image goes, and the cache commit beside it (cnb-digest §3.8, §4.8).

Sinks: a registry (every ``<image>`` a tag in one registry; blobs the registry has are skipped,
layers of the run/previous image in another repository are mounted), the spec's OCI layout
directory (``-layout``: ``<layout-dir>/<registry>/<repo>/<tag>``), and for pypack users any
``lifecycle.client`` location (local store, ``oci:DIR``, ``docker-archive:FILE``).

:func:`finish` writes the image and commits the cache **in parallel**; the image's tags move
only after all its blobs are in place (registry: manifest last; layout/store: index.json last),
so a failed export leaves every tag where it was. A cache that cannot be written is a warning
(the image is the product), as in the Go lifecycle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from lifecycle.cache import Cache, CacheError, CacheMetadata, restored
from lifecycle.errors import ExportError, ImageError, LifecycleError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.layout import Layout
from lifecycle.oci.reference import Reference
from lifecycle.phases.export import (
    Exported,
    ExportInputs,
    export,
    recorded_fingerprints,
    reuse_map,
)
from lifecycle.phases.export_layers import LayerMaker
from lifecycle.platform.files import report as report_file
from lifecycle.platform.files.report import ImageReport, Report
from lifecycle.platform.images import Images, layout_path

if TYPE_CHECKING:  # lifecycle.client and the registry (requests) are imported where used
    from lifecycle.client import Context
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger("lifecycle")


class Sink(Protocol):
    """Where the image is written; returns its manifest digest."""

    @property
    def names(self) -> tuple[str, ...]:
        """The names the image is written under (for messages and report.toml)."""

    def write(self, img: Image) -> Digest:
        """Write ``img`` under every name (tags move last)."""


@dataclass(frozen=True)
class RegistrySink:
    """Push to a registry: one manifest, several tags."""

    client: RegistryClient
    refs: tuple[Reference, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The tags, as given."""
        return tuple(str(r) for r in self.refs)

    def write(self, img: Image) -> Digest:
        """Push layers (skipped when present, mounted when possible), config, then tags."""
        from lifecycle.oci.remote import push_image

        return push_image(self.client, img, list(self.refs))


@dataclass(frozen=True)
class LayoutSink:
    """Write each reference as its own OCI layout under ``<layout-dir>`` (``-layout``)."""

    layout_dir: str
    refs: tuple[Reference, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The references, as given."""
        return tuple(str(r) for r in self.refs)

    def write(self, img: Image) -> Digest:
        """One layout per reference; the ref name in index.json is the tag."""
        for ref in self.refs:
            lay = Layout.init(layout_path(self.layout_dir, ref))
            lay.write_image(img, ref.tag or "latest")
        return Digest.of(img.raw_manifest())


@dataclass(frozen=True)
class LocationSink:
    """Any ``lifecycle.client`` location: ``store:NAME``, ``oci:DIR[:TAG]``,
    ``docker-archive:FILE[:TAG]`` or a registry reference, plus extra tags."""

    location: str
    extra_tags: tuple[str, ...] = ()
    ctx: Context | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The location and extra tags."""
        return (self.location, *self.extra_tags)

    def write(self, img: Image) -> Digest:
        """Write through ``lifecycle.client.write_image``."""
        from lifecycle.client import Context, write_image

        return write_image(img, self.location, self.ctx or Context(), self.extra_tags).digest


@dataclass(frozen=True, slots=True)
class Finished:
    """The written image's digest and the report."""

    digest: Digest
    report: Report
    cache_committed: bool


def _commit_cache(cache: Cache, exported: Exported) -> bool:
    try:
        cache.set_metadata(exported.cache_metadata)
        cache.commit()
    except (CacheError, OSError) as e:
        log.warning("failed to write cache %s: %s", cache.name, e)
        return False
    log.info("cache %s committed", cache.name)
    return True


def finish(exported: Exported, sink: Sink, cache: Cache | None) -> Finished:
    """Write the image and commit the cache in parallel; ExportError if the image fails."""
    img = exported.image
    with ThreadPoolExecutor(max_workers=2) as pool:
        image_f = pool.submit(sink.write, img)
        cache_f = pool.submit(_commit_cache, cache, exported) if cache is not None else None
        try:
            digest = image_f.result()
        except ExportError:
            raise
        except LifecycleError as e:
            raise ExportError(f"cannot write image {sink.names[0]}: {e}") from e
        except OSError as e:
            raise ExportError(f"cannot write image {sink.names[0]}: {e}") from e
        finally:
            committed = cache_f.result() if cache_f is not None else False
    image_id = str(Digest.of(img.raw_config()))
    report = Report(ImageReport(tags=tuple(sink.names), digest=str(digest), image_id=image_id,
                                manifest_size=len(img.raw_manifest())))
    return Finished(digest, report, committed)


def check_one_registry(refs: Sequence[Reference]) -> None:
    """All ``<image>`` arguments must be on one registry (platform.md "exporter")."""
    registries = {r.registry for r in refs}
    if len(registries) > 1:
        raise ImageError(f"all images must be in one registry, got {', '.join(sorted(registries))}")


def read_inputs_images(inputs: ExportInputs, images: Images) -> tuple[Image, Image | None]:
    """The run image (from analyzed.toml) and the previous image (None if it is gone)."""
    ri = inputs.analyzed.run_image
    if ri is None or not (ri.reference or ri.image):
        raise ExportError("analyzed.toml names no run image: run the analyzer first")
    name = ri.reference or ri.image
    try:
        run_image = images.open(name)
    except LifecycleError as e:
        raise ExportError(f"cannot read run image {name}: {e}") from e
    previous = None
    if inputs.analyzed.previous_image:
        try:
            previous = images.find(inputs.analyzed.previous_image)
        except LifecycleError as e:
            log.warning("cannot read previous image %s (%s); layers will not be reused",
                        inputs.analyzed.previous_image, e)
    return run_image, previous


def run_export(inputs: ExportInputs, images: Images, sink: Sink, cache: Cache | None,
               blobs: BlobStore, report_path: str | None = None) -> Finished:
    """The whole exporter: read images, make layers, write image and cache, write report."""
    run_image, previous = read_inputs_images(inputs, images)
    cache_md = cache.metadata() if cache is not None else CacheMetadata()
    maker = LayerMaker(blobs, reuse=reuse_map(previous, run_image),
                       recorded=recorded_fingerprints(cache_md, restored.load(inputs.layers_dir)),
                       cache=cache)
    exported = export(inputs, run_image, previous, maker)
    for m in exported.layers:
        if m.layer is not None or m.status == "cached":
            log.info("%-8s %s (%s)", m.status, m.name, _size(m.size) if m.size else m.diff_id[:19])
    done = finish(exported, sink, cache)
    for name in sink.names:
        log.info("*** Image: %s@%s", name, done.digest)
    if report_path:
        try:
            report_file.dump(report_path, done.report)
        except OSError as e:
            raise ExportError(f"cannot write {report_path}: {e.strerror or e}") from e
    return done


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"
