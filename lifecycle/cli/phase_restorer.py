"""``restorer``: the phase program (Platform API 0.15 platform.md "restorer", cnb-digest §3.5).

``restorer [-analyzed <analyzed>] [-build-image <build-image>] [-cache-dir <cache-dir>]
[-cache-image <cache-image>] [-daemon] [-gid <gid>] [-group <group>] [-insecure-registry
<registry>...] [-layers <layers>] [-log-level <level>] [-skip-layers] [-uid <uid>] [-run <run>]``
with ``CNB_EXEC_ENV`` (and ``-no-color``). Flags, ``CNB_*`` variables and defaults come from
``lifecycle.platform.inputs``; ``lifecycle.cli.common.run_phase`` checks the platform API (exit
11) and maps errors to exit codes (3 bad usage, 12 buildpack API, 40 restore errors).

The body reads group.toml, analyzed.toml (a missing one is warned about and restoring goes on
without it, as in the Go lifecycle) and run.toml, opens the cache (``-cache-image`` wins over
``-cache-dir``), runs :func:`lifecycle.phases.restore_run.restore` and rewrites analyzed.toml
atomically when the run image (or build image) was pinned. ``-daemon`` is refused (pypack reads
no Docker daemon); image extensions are refused only when a build actually asks for them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.errors import RestoreError, UsageError
from lifecycle.oci.registry import RegistryClient, default_keychain
from lifecycle.phases.restore_run import RestoreInputs, open_cache, restore
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files import group as group_file
from lifecycle.platform.files import run as run_file
from lifecycle.platform.files.analyzed import Analyzed

NAMES = ("log-level", "no-color", "layers", "analyzed", "build-image", "cache-dir",
         "cache-image", "daemon", "gid", "uid", "group", "insecure-registry", "skip-layers",
         "run", "exec-env")
"""The restorer's inputs, ``layers`` before the paths that default below it."""

log = logging.getLogger("lifecycle")


def _load_analyzed(path: str) -> Analyzed | None:
    if not os.path.exists(path):
        log.warning("Not using analyzed data, usable file not found: %s", path)
        return None
    return analyzed_file.load(path)


def inputs_of(values: Mapping[str, Any], positionals: Sequence[str]) -> RestoreInputs:
    """Check the flags and read the input files into RestoreInputs (UsageError: exit 3)."""
    if positionals:
        raise UsageError(f"restorer takes no arguments, got: {' '.join(positionals)}")
    if values["daemon"]:
        raise UsageError("restorer: -daemon (CNB_USE_DAEMON) is not supported by pypack; "
                         "run images are read from a registry")
    if "/" in values["exec_env"]:
        raise UsageError(f"CNB_EXEC_ENV: {values['exec_env']!r} must not contain '/'")
    return RestoreInputs(
        layers_dir=values["layers"], group=group_file.load(values["group"]),
        analyzed=_load_analyzed(values["analyzed"]),
        run=run_file.load(values["run"], missing_ok=True),
        skip_layers=bool(values["skip_layers"]), exec_env=values["exec_env"],
        build_image=values["build_image"] or None)


def _body(values: Mapping[str, Any], positionals: list[str], _api: Version,
          environ: Mapping[str, str] | None = None) -> int:
    inputs = inputs_of(values, positionals)
    env = os.environ if environ is None else environ
    client = RegistryClient(default_keychain(env),
                            insecure_registries=values["insecure_registry"])
    cache = open_cache(client, values["cache_image"], values["cache_dir"])
    result = restore(inputs, cache, client)
    if result.analyzed_changed and result.analyzed is not None:
        path = values["analyzed"]
        try:
            analyzed_file.dump(path, result.analyzed)
        except OSError as e:
            raise RestoreError(f"cannot write {path}: {e.strerror or e}") from e
        log.debug("updated %s", path)
    return 0


def run(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run the restorer with ``argv`` (flags only) and ``environ`` (default: the process
    environment); return its exit code."""
    return run_phase("restorer", argv, NAMES, partial(_body, environ=environ), environ)
