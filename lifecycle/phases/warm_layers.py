"""Warm layers: a platform that keeps ``<layers>`` between builds skips restoring what is there.

pypack's own optimisation, not a spec behaviour (the spec's restorer starts from an empty
``<layers>``); ``pypack build`` uses it, the phase programs do not. Before the restorer runs,
:func:`prune` empties ``<layers>`` except the buildpack layer *directories* of the last build.
Then :func:`keep_unchanged` drops from the restore plan every cached layer whose directory is
still there with the fingerprint the exporter recorded for it (same files, same inodes and
times, tarred the same way) and the diffID the cache holds: its contents are already the cache
tar's, so extracting it again would only cost time, and the exporter will not tar it again
either. Every other kept directory is deleted before extraction, so the buildpacks see exactly
what a fresh restore would give.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import replace
from pathlib import Path

from lifecycle.cache import CacheMetadata, layer_key, restored
from lifecycle.phases.restore import RestorePlan

log = logging.getLogger("lifecycle")


def prune(layers_dir: str | os.PathLike[str]) -> None:
    """Keep only ``<layers>/<bp>/<layer>/`` directories (everything else is deleted)."""
    root = Path(layers_dir)
    root.mkdir(parents=True, exist_ok=True)
    for top in root.iterdir():
        if top.is_dir() and not top.is_symlink() and top.name not in ("config", "sbom"):
            for entry in top.iterdir():
                if entry.is_dir() and not entry.is_symlink() \
                        and not entry.name.endswith(".ignore"):
                    continue
                _remove(entry)
        else:
            _remove(top)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def keep_unchanged(plan: RestorePlan, layers_dir: str | os.PathLike[str],
                   cache_md: CacheMetadata | None) -> RestorePlan:
    """``plan`` without the extractions whose directory is already right (module docstring).
    Every other kept directory is deleted first (launch-only layers come back as metadata only,
    layers of buildpacks not in the group go), so the result is what a fresh restore gives."""
    root = Path(layers_dir)
    kept: dict[str, set[str]] = {}
    buildpacks = []
    for bp in plan.buildpacks:
        extract = []
        for cl in bp.extract:
            path = root / bp.directory / cl.name
            if path.is_dir() and _unchanged(bp.id, cl.name, cl.diff_id, path, cache_md):
                log.info('Reusing data for "%s:%s" (unchanged since the last build)',
                         bp.id, cl.name)
                kept.setdefault(bp.directory, set()).add(cl.name)
                continue
            extract.append(cl)
        buildpacks.append(replace(bp, extract=tuple(extract)))
    _delete_all_but(root, kept)
    return replace(plan, buildpacks=tuple(buildpacks))


def _delete_all_but(root: Path, kept: dict[str, set[str]]) -> None:
    for top in root.iterdir():
        if not top.is_dir() or top.is_symlink():
            continue
        if top.name not in kept:
            shutil.rmtree(top)
            continue
        for entry in top.iterdir():
            if entry.name not in kept[top.name]:
                _remove(entry)


def _unchanged(bp_id: str, name: str, diff_id: str, path: Path,
               cache_md: CacheMetadata | None) -> bool:
    prior = cache_md.fingerprint(layer_key(bp_id, name)) if cache_md is not None else None
    if prior is None or prior.sha != diff_id or "|" not in prior.fingerprint:
        return False
    salt = prior.fingerprint.split("|", 1)[0]
    return restored.layer_fingerprint(path, salt) == prior.fingerprint
