"""What of the host a sandbox gets: proxy variables, the host's CA bundle, never credentials.

design.md §4 and test-rig.md §7. Builds behind a corporate (TLS-intercepting) proxy work as
with pack: ``HTTP(S)_PROXY``/``NO_PROXY`` (and lowercase) pass from the host when the command
does not set them, and the CA bundle the host trusts is bound read-only at
:data:`CA_INSIDE` with ``SSL_CERT_FILE``, ``PIP_CERT``, ``NODE_EXTRA_CA_CERTS`` and
``REQUESTS_CA_BUNDLE`` pointing at it, for the run only (nothing is written into an image).
Variables naming registry credentials are always removed. Pure except :func:`host_ca_bundle`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lifecycle.buildpack.procenv import SECRETS

PROXY_VARS = tuple(v for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
                   for v in (name, name.lower()))
"""Proxy variables passed from the host environment when the command has none of its own."""

CA_INSIDE = "/etc/ssl/certs/ca-certificates.crt"
"""Where the host CA bundle appears inside the sandbox."""

CA_VARS = ("SSL_CERT_FILE", "PIP_CERT", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE")
"""Variables set to :data:`CA_INSIDE` when the host CA bundle is bound."""

DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

STRIPPED = frozenset(SECRETS | {"CNB_REGISTRY_AUTH"})
"""Variables never passed into a sandbox (registry credentials and where they live)."""


def host_ca_bundle(environ: Mapping[str, str]) -> str | None:
    """The CA bundle the host trusts: ``SSL_CERT_FILE`` if it names a file, else the Debian
    bundle if present, else None."""
    for candidate in (environ.get("SSL_CERT_FILE"), DEFAULT_CA_BUNDLE):
        if candidate and os.path.isfile(candidate):
            return os.path.realpath(candidate)
    return None


def sandbox_env(env: Mapping[str, str], host_environ: Mapping[str, str], *,
                ca_path: str | None) -> dict[str, str]:
    """The environment a sandboxed (or ``--sandbox none``) program gets from the command's
    ``env``: credentials removed, the host's proxy variables added where ``env`` lacks them,
    and the CA variables set to ``ca_path`` (where the program sees the host bundle:
    :data:`CA_INSIDE` in a sandbox, the host path without one) when given."""
    out = {k: v for k, v in env.items() if k not in STRIPPED}
    for name in PROXY_VARS:
        if name not in out and host_environ.get(name):
            out[name] = host_environ[name]
    if ca_path is not None:
        out.update(dict.fromkeys(CA_VARS, ca_path))
    return out
