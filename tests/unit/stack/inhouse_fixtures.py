"""Helpers for the in-house stack unit tests: layers with any tar entries, small base images,
throwaway CA certificates made with openssl, and in-house stack definitions."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from lifecycle.oci import mutate
from lifecycle.oci.image import ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.pipeline import compress
from lifecycle.oci.platform import Platform

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_CA = REPO / "stacks" / "inhouse-example" / "example-corp-ca.pem"

Entry = tuple[str, bytes, bytes | str, int]
"""(name, tar type, data or link target, mode)."""


def tar_bytes(entries: list[tuple[str, bytes, bytes | str, int]], uid: int = 0) -> bytes:
    """An uncompressed tar of ``entries`` (name, type, data or link target, mode)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, payload, mode in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = kind, mode, uid, uid
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = str(payload)
                tf.addfile(info)
            elif kind == tarfile.REGTYPE:
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return out.getvalue()


def layer(entries: list[tuple[str, bytes, bytes | str, int]]) -> BlobLayer:
    """A gzip layer of ``entries``."""
    buf = io.BytesIO()
    d = compress([tar_bytes(entries)], buf)
    return BlobLayer.from_bytes(buf.getvalue(), d.diff_id, d.media_type)


def d(name: str, mode: int = 0o755) -> tuple[str, bytes, bytes | str, int]:
    """A directory entry."""
    return (name, tarfile.DIRTYPE, b"", mode)


def f(name: str, data: bytes | str, mode: int = 0o644) -> tuple[str, bytes, bytes | str, int]:
    """A regular file entry."""
    return (name, tarfile.REGTYPE, data, mode)


def ln(name: str, target: str) -> tuple[str, bytes, bytes | str, int]:
    """A symlink entry."""
    return (name, tarfile.SYMTYPE, target, 0o777)


OS_RELEASE = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
PASSWD = "root:x:0:0:root:/root:/bin/bash\ncnb:x:1000:1000:CNB user:/home/cnb:/bin/bash\n"
GROUP = "root:x:0:\nshadow:x:42:\ncnb:x:1000:\n"


def base_image(bundle: bytes | None = None, *, labels: dict[str, str] | None = None,
               cnb_env: bool = True) -> ImageValue:
    """A merged-usr Debian-like base: two layers, os-release, accounts, dpkg status, bash,
    optionally a CA bundle, config with the CNB user like pypack's default stack."""
    first = [d("usr"), d("usr/bin"), d("usr/lib"), ln("bin", "usr/bin"), d("etc"),
             f("usr/lib/os-release", OS_RELEASE), ln("etc/os-release", "../usr/lib/os-release"),
             f("usr/bin/bash", b"#!fake\n", 0o755), d("home"), d("home/cnb"),
             d("var"), d("var/lib"), d("var/lib/dpkg"),
             f("var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\n"
               "Architecture: amd64\nVersion: 12.4\n\n")]
    second = [f("etc/passwd", PASSWD), f("etc/group", GROUP),
              ("etc/shadow", tarfile.REGTYPE, "root:*:19000:0:99999:7:::\n", 0o640)]
    if bundle is not None:
        second += [d("etc/ssl"), d("etc/ssl/certs"),
                   f("etc/ssl/certs/ca-certificates.crt", bundle)]
    img = mutate.append_layers(empty_image(Platform("linux", "amd64")),
                               [layer(first), layer(second)])
    env = {"PATH": "/usr/bin:/bin"}
    if cnb_env:
        env.update({"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1000"})
    img = mutate.with_env(img, env)
    img = mutate.with_user(img, "1000:1000" if cnb_env else None)
    return mutate.with_labels(img, labels or {"io.buildpacks.base.maintainer": "base people"})


def make_ca(tmp: Path, subject: str, name: str = "ca") -> Path:
    """A throwaway self-signed CA certificate (PEM) made by openssl; skips without openssl."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl is not installed")
    out = tmp / f"{name}.pem"
    subprocess.run([exe, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(tmp / f"{name}.key"),
                    "-out", str(out), "-subj", subject, "-days", "30", "-utf8",
                    "-multivalue-rdn"], check=True, capture_output=True)
    return out


def openssl_hash(cert: Path) -> str:
    """``openssl x509 -hash`` of ``cert``."""
    return subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
                          check=True, capture_output=True, text=True).stdout.strip()


INHOUSE = """\
id = "io.example.stacks.inhouse"
description = "in-house test"

[build]
image = "example/inhouse-build"
base = "example/base-build"
env = { CORP = "1" }

[[build.files]]
src = "corp-ca.pem"
dest = "/usr/local/share/ca-certificates/corp-ca.crt"

[[build.users]]
name = "svc"
uid = 1500

[run]
image = "example/inhouse-run"
base = "example/base-run"

[[run.files]]
src = "corp-ca.pem"
dest = "/usr/local/share/ca-certificates/corp-ca.crt"
mode = "0640"
"""


def write_inhouse(root: Path, text: str = INHOUSE, name: str = "inhouse",
                  ca: bytes | None = None) -> Path:
    """``<root>/<name>/stack.toml`` with ``corp-ca.pem`` next to it; returns the file."""
    dd = root / name
    dd.mkdir(parents=True, exist_ok=True)
    (dd / "corp-ca.pem").write_bytes(ca if ca is not None else EXAMPLE_CA.read_bytes())
    (dd / "stack.toml").write_text(text)
    return dd / "stack.toml"
