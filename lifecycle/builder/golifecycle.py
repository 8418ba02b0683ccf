"""A lifecycle from a release tarball: builder.toml's ``[lifecycle] uri``, as pack takes it.

Without ``uri`` a builder gets pypack's own lifecycle (Python programs: they need pypack in the
image to run there). With ``uri`` naming a CNB lifecycle release
(``lifecycle-vX.Y.Z+linux.x86-64.tgz``: a ``lifecycle/`` directory with the ``lifecycle``
binary, its phase links, ``launcher`` and ``lifecycle.toml``) that lifecycle is put at
``/cnb/lifecycle`` instead, and the builder's lifecycle labels come from its
``lifecycle.toml``: platforms that run the phases inside the builder (pack, kpack, Tekton)
can then use a builder made by pypack. ``pypack build`` itself always runs its own lifecycle
outside the image.

``uri`` is a path (relative to builder.toml), ``file://`` or ``http(s)://`` URL. The tar's
entries must lie under ``lifecycle/`` and be directories, regular files or relative links
that stay inside it; anything else is refused (FileFormatError naming the tarball).
"""

from __future__ import annotations

import posixpath
import tarfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lifecycle.builder import labels as lb
from lifecycle.builder import layers as ly
from lifecycle.errors import FileFormatError

TOP = "lifecycle"
DEST = "cnb/lifecycle"


def locate(uri: str, base_dir: Path, scratch: Path) -> Path:
    """The local tarball ``uri`` names (downloaded into ``scratch`` for http(s))."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        import requests

        dest = scratch / "lifecycle.tgz"
        try:
            with requests.get(uri, stream=True, timeout=60) as resp:
                resp.raise_for_status()
                with open(dest, "wb") as f:
                    for chunk in resp.iter_content(1 << 20):
                        f.write(chunk)
        except (requests.RequestException, OSError) as e:
            raise FileFormatError(f"[lifecycle] uri {uri}: cannot download: {e}") from e
        return dest
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
    elif parts.scheme:
        raise FileFormatError(f"[lifecycle] uri {uri}: want a path, file:// or http(s)://")
    else:
        path = base_dir / uri
    if not path.is_file():
        raise FileFormatError(f"[lifecycle] uri {uri}: {path} is not a file")
    return path


def descriptor(doc: Mapping[str, Any], source: str) -> lb.LifecycleDescriptor:
    """The version and APIs of a ``lifecycle.toml``."""
    version = (doc.get("lifecycle") or {}).get("version")
    apis = doc.get("apis") or {}
    if not isinstance(version, str) or not version or not isinstance(apis, Mapping):
        raise FileFormatError(f"{source}: needs [lifecycle] version and [apis]")

    def versions(kind: str, which: str) -> tuple[str, ...]:
        got = (apis.get(kind) or {}).get(which, [])
        if not isinstance(got, list) or not all(isinstance(v, str) for v in got):
            raise FileFormatError(f"{source}: apis.{kind}.{which} must be a list of strings")
        return tuple(got)
    return lb.LifecycleDescriptor(version, versions("buildpack", "supported"),
                                  versions("buildpack", "deprecated"),
                                  versions("platform", "supported"),
                                  versions("platform", "deprecated"))


def read(tgz: Path) -> tuple[lb.LifecycleDescriptor, list[ly.Entry]]:
    """The lifecycle's descriptor and the entries of its ``/cnb/lifecycle`` layer (plus pack's
    compatibility link ``/lifecycle -> /cnb/lifecycle``)."""
    entries = [ly.directory(DEST)]
    doc: dict[str, Any] | None = None
    try:
        with tarfile.open(tgz, "r:*") as tf:
            for m in tf:
                raw = m.name[2:] if m.name.startswith("./") else m.name
                name = posixpath.normpath(raw or ".")
                if name in (".", TOP):
                    continue
                if not name.startswith(TOP + "/"):
                    raise FileFormatError(f"{tgz}: {m.name} is not under {TOP}/")
                rel = name[len(TOP) + 1:]
                path = f"{DEST}/{rel}"
                if m.isdir():
                    entries.append(ly.directory(path))
                elif m.isfile():
                    f = tf.extractfile(m)
                    data = f.read() if f is not None else b""
                    entries.append(ly.Entry(path, "file", 0o755 if m.mode & 0o111 else 0o644,
                                            data=data))
                    if rel == "lifecycle.toml":
                        doc = tomllib.loads(data.decode("utf-8"))
                elif m.issym():
                    inside = posixpath.normpath(posixpath.join(posixpath.dirname(rel),
                                                               m.linkname))
                    if m.linkname.startswith("/") or inside.startswith(".."):
                        raise FileFormatError(f"{tgz}: link {m.name} -> {m.linkname} leaves "
                                              f"{TOP}/")
                    entries.append(ly.symlink(path, m.linkname))
                else:
                    raise FileFormatError(f"{tgz}: {m.name}: only files, directories and "
                                          "links")
    except (tarfile.TarError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise FileFormatError(f"{tgz}: not a lifecycle release tarball: {e}") from e
    if doc is None:
        raise FileFormatError(f"{tgz}: no {TOP}/lifecycle.toml")
    entries.append(ly.symlink("lifecycle", "/cnb/lifecycle"))
    return descriptor(doc, f"{tgz}:{TOP}/lifecycle.toml"), sorted(entries, key=ly.sort_key)
