"""The buildpack SDK: write ``bin/detect`` and ``bin/build`` in Python (Buildpack API 0.12).

Standard library only, and importing nothing else from ``lifecycle``, so it runs inside any
build image with Python 3.11+. A buildpack vendors it (the bundled ones have
``lib/lifecycle/__init__.py`` and a ``lib/lifecycle/sdk`` link) and puts ``lib`` on
``sys.path``. Example ``bin/build``::

    from lifecycle.sdk import BuildContext, build

    def main(ctx: BuildContext) -> None:
        venv = ctx.layer("venv", launch=True, cache=True)
        if venv.reuse_if({"key": "..."}):
            ctx.log.info("Reusing venv")
        else:
            ...  # fill venv.path
        venv.env.override("VIRTUAL_ENV", str(venv.path))
        ctx.process("web", ["python", "app.py"], default=True)

    if __name__ == "__main__":
        build(main)

Modules: ``main`` (entry points, exit codes), ``context`` / ``build_context`` (inputs and
outputs), ``layer`` and ``env`` (layers, env files), ``launch`` (processes, labels, slices),
``plan`` (Build Plan and Buildpack Plan), ``toml`` (a small TOML writer), ``sbom``,
``procfile``.
"""

from typing import TYPE_CHECKING

# Names are imported on first use (PEP 562): a bin/detect that needs only DetectContext does not
# pay for the build-side modules (~30 ms of imports per run in a build image).
_EXPORTS = {
    "BuildContext": "build_context",
    "BuildpackInfo": "context", "DetectContext": "context", "Target": "context",
    "EnvDir": "env",
    "BUILD_FAILURE": "errors", "BUILD_SUCCESS": "errors", "DETECT_ERROR": "errors",
    "DETECT_FAIL": "errors", "DETECT_PASS": "errors", "BuildpackError": "errors",
    "SdkError": "errors",
    "Process": "launch",
    "Layer": "layer",
    "build": "main", "detect": "main", "run_build": "main", "run_detect": "main",
    "PlanEntry": "plan",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lifecycle.sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"lifecycle.sdk.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from lifecycle.sdk.build_context import BuildContext
    from lifecycle.sdk.context import BuildpackInfo, DetectContext, Target
    from lifecycle.sdk.env import EnvDir
    from lifecycle.sdk.errors import (
        BUILD_FAILURE,
        BUILD_SUCCESS,
        DETECT_ERROR,
        DETECT_FAIL,
        DETECT_PASS,
        BuildpackError,
        SdkError,
    )
    from lifecycle.sdk.launch import Process
    from lifecycle.sdk.layer import Layer
    from lifecycle.sdk.main import build, detect, run_build, run_detect
    from lifecycle.sdk.plan import PlanEntry

__all__ = [
    "BUILD_FAILURE",
    "BUILD_SUCCESS",
    "DETECT_ERROR",
    "DETECT_FAIL",
    "DETECT_PASS",
    "BuildContext",
    "BuildpackError",
    "BuildpackInfo",
    "DetectContext",
    "EnvDir",
    "Layer",
    "PlanEntry",
    "Process",
    "SdkError",
    "Target",
    "build",
    "detect",
    "run_build",
    "run_detect",
]
