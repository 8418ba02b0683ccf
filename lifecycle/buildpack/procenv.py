"""The environment of a buildpack program (bin/detect, bin/build) as the lifecycle supplies it.

Buildpack API 0.7-0.12 buildpack.md "Environment" and "Detection"/"Build" inputs; Platform API
0.15 platform.md "Buildpack Environment". Order (as the Go lifecycle): the base environment, then
user-provided ``<platform>/env/`` values unless ``clear-env`` (path variables prepended,
others overridden), then ``CNB_BUILDPACK_DIR``, ``CNB_PLATFORM_DIR`` (>= 0.8), ``CNB_TARGET_*``
(>= 0.10) and ``CNB_EXEC_ENV`` (>= 0.12). Phase-specific variables (``CNB_BUILD_PLAN_PATH``,
``CNB_LAYERS_DIR``, ``CNB_BP_PLAN_PATH``) are added by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lifecycle import api
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.platform.env import read_platform_env

PATH_VARS = ("PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "PKG_CONFIG_PATH")
"""POSIX path variables: a user value is prepended to the existing value."""

SECRETS = frozenset({"CNB_REGISTRY_AUTH", "DOCKER_CONFIG", "DOCKER_AUTH_CONFIG",
                     "REGISTRY_AUTH_FILE"})
"""Variables naming or holding registry credentials: never given to buildpacks."""

BASE_ALLOWLIST = frozenset({"CNB_STACK_ID", "HOSTNAME", "HOME",
                            "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                            "NO_PROXY", "no_proxy", *PATH_VARS})
"""The only variables of the lifecycle's own environment buildpacks see (cnb-digest §2.11, the
Go lifecycle's ``BuildEnvIncludelist`` plus the POSIX path variables): anything else a CI
runner or builder sets, tokens included, stays out. ``CNB_STACK_ID`` is deprecated (API 0.12)."""


def lifecycle_base_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allowlisted part (``BASE_ALLOWLIST``) of the lifecycle's own environment."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items() if k in BASE_ALLOWLIST}


def apply_user_env(env: Mapping[str, str], user: Mapping[str, str]) -> dict[str, str]:
    """User values over ``env``: prepended (``user:existing``) for path variables, else override."""
    out = dict(env)
    for name, value in user.items():
        if name in PATH_VARS and out.get(name):
            out[name] = value + os.pathsep + out[name]
        else:
            out[name] = value
    return out


def buildpack_env(base: Mapping[str, str], bp: BuildpackDescriptor, platform_dir: str,
                  exec_env: str, target: Mapping[str, str]) -> dict[str, str]:
    """The environment for one of ``bp``'s programs, built on ``base``.

    ``target`` is ``lifecycle.platform.target.target_env(...)``; it and ``exec_env`` are only
    applied when ``bp.api`` supports them. ``CNB_REGISTRY_AUTH`` never passes through.
    """
    env = dict(base)
    if not bp.clear_env:
        env = apply_user_env(env, read_platform_env(platform_dir))
    env["CNB_BUILDPACK_DIR"] = str(bp.dir)
    if api.cnb_dir_env_vars(bp.api):
        env["CNB_PLATFORM_DIR"] = platform_dir
    if api.targets_supported(bp.api):
        env.update(target)
    if api.exec_env_supported(bp.api) and exec_env:
        env["CNB_EXEC_ENV"] = exec_env
    env.pop("CNB_REGISTRY_AUTH", None)
    return env
