"""Content digests (``algorithm:hex``) as used by OCI descriptors; sha256 only for writing.

OCI image-spec "descriptor.md#digests". Standard library only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from lifecycle.errors import DigestMismatchError, ImageError

_DIGEST_RE = re.compile(r"^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$")


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """An immutable, validated content digest. ``str(d)`` gives ``sha256:<hex>``."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        m = _DIGEST_RE.match(text)
        if not m:
            raise ImageError(f"invalid digest {text!r} (want sha256:<64 hex>)")
        algo = m.group(1) or m.group(3)
        hexpart = m.group(2) or m.group(4)
        return cls(algo, hexpart)

    @classmethod
    def of(cls, data: bytes) -> Digest:
        return cls("sha256", hashlib.sha256(data).hexdigest())

    @classmethod
    def of_file(cls, f: BinaryIO, bufsize: int = 1 << 20) -> Digest:
        h = hashlib.sha256()
        while chunk := f.read(bufsize):
            h.update(chunk)
        return cls("sha256", h.hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    def verify(self, data: bytes, what: str = "blob") -> None:
        """Raise DigestMismatchError unless ``data`` hashes to this digest."""
        got = hashlib.new(self.algorithm, data).hexdigest()
        if got != self.hex:
            raise DigestMismatchError(
                f"{what} {self}: content hashes to {self.algorithm}:{got}")


class VerifyingReader:
    """Wraps a binary stream; raises DigestMismatchError at EOF if the bytes don't match."""

    def __init__(self, raw: BinaryIO, expected: Digest, what: str = "blob") -> None:
        self._raw = raw
        self._expected = expected
        self._hash = expected.hasher()
        self._what = what
        self._done = False

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if data:
            self._hash.update(data)
        elif not self._done:
            self._done = True
            got = self._hash.hexdigest()
            if got != self._expected.hex:
                raise DigestMismatchError(
                    f"{self._what} {self._expected}: content hashes to "
                    f"{self._expected.algorithm}:{got}")
        return data

    def close(self) -> None:
        self._raw.close()
