"""Fingerprints of layer directories the restorer extracted (pypack's own file).

A cached layer restored into ``<layers>/<bp>/<layer>/`` gets new inodes and times, so its
fingerprint differs from the one recorded at the last export although its contents are the
cache tar's. The restorer records, right after extracting, the directory's fingerprint and the
tar's diffID here; the exporter trusts a directory whose fingerprint is still the same and does
not tar it again. The file is ``<layers>/.pypack-restored.json``: ``{"<bp id>:<layer>":
{"fingerprint": "...", "sha": "sha256:..."}}``. A missing or unreadable file means "nothing
known", never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from lifecycle.cache.metadata import CacheMetadata, Fingerprint
from lifecycle.errors import LifecycleError
from lifecycle.fsutil import atomic_write
from lifecycle.oci.fingerprint import fingerprint

log = logging.getLogger(__name__)

FILENAME = ".pypack-restored.json"


def path_in(layers_dir: str | os.PathLike[str]) -> Path:
    """The record file in ``layers_dir``."""
    return Path(layers_dir) / FILENAME


def load(layers_dir: str | os.PathLike[str]) -> dict[str, Fingerprint]:
    """The recorded fingerprints (empty when none or unreadable)."""
    try:
        data = json.loads(path_in(layers_dir).read_bytes())
        return {k: Fingerprint(str(v["fingerprint"]), str(v["sha"])) for k, v in data.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        log.debug("ignoring %s: %s", path_in(layers_dir), e)
        return {}


def dump(layers_dir: str | os.PathLike[str], records: Mapping[str, Fingerprint]) -> None:
    """Write the records atomically."""
    data = {k: {"fingerprint": f.fingerprint, "sha": f.sha} for k, f in sorted(records.items())}
    atomic_write(path_in(layers_dir), json.dumps(data, sort_keys=True).encode())


def salt(under: str, uid: int, gid: int, mtime: int) -> str:
    """What besides the files decides a layer tar's bytes: in-image path, owner, mtime."""
    text = f"{under}\0{uid}:{gid}\0{mtime}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def layer_fingerprint(src: str | os.PathLike[str], salt_value: str) -> str:
    """``<salt>|<directory fingerprint>``: equal only for the same files tarred the same way."""
    return f"{salt_value}|{fingerprint(src)}"


def record_restored(layers_dir: str | os.PathLike[str], key: str,
                    layer_dir: str | os.PathLike[str], diff_id: str,
                    cache_md: CacheMetadata) -> None:
    """After the restorer extracted cache layer ``diff_id`` into ``layer_dir``: remember its
    fingerprint, salted as the last export tarred it (known from the cache metadata's record for
    ``key`` with the same diffID; without one nothing is recorded). Never raises."""
    prior = cache_md.fingerprint(key)
    if prior is None or prior.sha != diff_id or "|" not in prior.fingerprint:
        return
    try:
        records = load(layers_dir)
        records[key] = Fingerprint(layer_fingerprint(layer_dir, prior.fingerprint.split("|")[0]),
                                   diff_id)
        dump(layers_dir, records)
    except (OSError, LifecycleError) as e:
        log.debug("not recording the fingerprint of %s: %s", layer_dir, e)
