"""Registry access: references resolve to repositories, spoken to with OCI distribution-spec v1.1.

Public names: ``RegistryClient`` (blobs, manifests, tags, statistics), ``BlobSource``,
``UploadStats``, ``RetryPolicy``, the keychains (``default_keychain``, ``StaticKeychain``, ...)
and ``Credential``. Auth follows the Docker registry token auth spec.
"""

from __future__ import annotations

from lifecycle.oci.registry.blob import BlobSource, UploadStats
from lifecycle.oci.registry.client import (
    DEFAULT_CHUNK_SIZE,
    FetchedManifest,
    ManifestHead,
    PushResult,
    RegistryClient,
)
from lifecycle.oci.registry.credentials import (
    AnonymousKeychain,
    Credential,
    DockerConfigKeychain,
    EnvKeychain,
    Keychain,
    MultiKeychain,
    StaticKeychain,
    default_keychain,
)
from lifecycle.oci.registry.retry import RetryPolicy

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "AnonymousKeychain",
    "BlobSource",
    "Credential",
    "DockerConfigKeychain",
    "EnvKeychain",
    "FetchedManifest",
    "Keychain",
    "ManifestHead",
    "MultiKeychain",
    "PushResult",
    "RegistryClient",
    "RetryPolicy",
    "StaticKeychain",
    "UploadStats",
    "default_keychain",
]
