"""Phase inputs: the spec's single-dash flags, their ``CNB_*`` environment variables and defaults.

Platform API 0.15, `platform.md` "Inputs" of each phase. A flag beats its environment variable,
which beats the default. Defaults may depend on other inputs (``-group`` defaults to
``<layers>/group.toml``), so a default is a value or a function of the resolved inputs so far.
Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lifecycle.errors import UsageError

Kind = Literal["str", "bool", "list", "int"]
Default = Any | Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Flag:
    """One input: ``-name`` on the command line, ``env`` in the environment, and a default."""

    name: str
    env: str | None = None
    default: Default = None
    kind: Kind = "str"
    help: str = ""

    @property
    def key(self) -> str:
        """The Python name of the input: ``-log-level`` -> ``log_level``."""
        return self.name.replace("-", "_")


def _layers(*parts: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda v: os.path.join(v["layers"], *parts)


def _order_default(v: Mapping[str, Any]) -> str:
    local = os.path.join(v["layers"], "order.toml")
    return local if os.path.exists(local) else "/cnb/order.toml"


def _system_default(v: Mapping[str, Any]) -> str:
    return "/cnb/system.toml"


# The catalogue of every flag of the spec; phases pick theirs by name (order matters for defaults:
# ``layers`` comes before anything that defaults below it).
CATALOGUE: dict[str, Flag] = {f.name: f for f in (
    Flag("log-level", "CNB_LOG_LEVEL", "info"),
    Flag("no-color", "CNB_NO_COLOR", False, "bool"),
    Flag("app", "CNB_APP_DIR", "/workspace"),
    Flag("layers", "CNB_LAYERS_DIR", "/layers"),
    Flag("platform", "CNB_PLATFORM_DIR", "/platform"),
    Flag("buildpacks", "CNB_BUILDPACKS_DIR", "/cnb/buildpacks"),
    Flag("extensions", "CNB_EXTENSIONS_DIR", "/cnb/extensions"),
    Flag("build-config", "CNB_BUILD_CONFIG_DIR", "/cnb/build-config"),
    Flag("generated", "CNB_GENERATED_DIR", _layers("generated")),
    Flag("extended", "CNB_EXTENDED_DIR", _layers("extended")),
    Flag("group", "CNB_GROUP_PATH", _layers("group.toml")),
    Flag("plan", "CNB_PLAN_PATH", _layers("plan.toml")),
    Flag("order", "CNB_ORDER_PATH", _order_default),
    Flag("system", "CNB_SYSTEM_PATH", _system_default),
    Flag("analyzed", "CNB_ANALYZED_PATH", _layers("analyzed.toml")),
    Flag("report", "CNB_REPORT_PATH", _layers("report.toml")),
    Flag("project-metadata", "CNB_PROJECT_METADATA_PATH", _layers("project-metadata.toml")),
    Flag("run", "CNB_RUN_PATH", "/cnb/run.toml"),
    Flag("exec-env", "CNB_EXEC_ENV", "production"),
    Flag("uid", "CNB_USER_ID", None, "int"),
    Flag("gid", "CNB_GROUP_ID", None, "int"),
    Flag("cache-dir", "CNB_CACHE_DIR", None),
    Flag("cache-image", "CNB_CACHE_IMAGE", None),
    Flag("launch-cache", "CNB_LAUNCH_CACHE_DIR", None),
    Flag("previous-image", "CNB_PREVIOUS_IMAGE", None),
    Flag("run-image", "CNB_RUN_IMAGE", None),
    Flag("tag", None, (), "list"),
    Flag("skip-layers", "CNB_SKIP_LAYERS", False, "bool"),
    Flag("skip-restore", "CNB_SKIP_RESTORE", False, "bool"),
    Flag("process-type", "CNB_PROCESS_TYPE", None),
    Flag("launcher", "CNB_LAUNCHER_PATH", "/cnb/lifecycle/launcher"),
    Flag("launcher-sbom", "CNB_LAUNCHER_SBOM_DIR", "/cnb/lifecycle"),
    Flag("layout", "CNB_USE_LAYOUT", False, "bool"),
    Flag("layout-dir", "CNB_LAYOUT_DIR", None),
    Flag("insecure-registry", "CNB_INSECURE_REGISTRIES", (), "list"),
    Flag("parallel", "CNB_PARALLEL_EXPORT", False, "bool"),
    Flag("daemon", "CNB_USE_DAEMON", False, "bool"),
    Flag("force", "CNB_FORCE_REBASE", False, "bool"),
    Flag("image", None, None),
    Flag("stack", "CNB_STACK_PATH", "/cnb/stack.toml"),
    Flag("sbom-dir", None, None),
    Flag("version", None, False, "bool"),
    Flag("build-image", "CNB_BUILD_IMAGE", None),
)}


def _convert(flag: Flag, raw: str, source: str) -> Any:
    if flag.kind == "bool":
        low = raw.lower()
        if low in ("", "1", "true", "t", "yes"):
            return True
        if low in ("0", "false", "f", "no"):
            return False
        raise UsageError(f"{source}: {raw!r} is not a boolean")
    if flag.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{source}: {raw!r} is not an integer") from None
    return raw


def parse(argv: Sequence[str], names: Sequence[str],
          environ: Mapping[str, str] | None = None,
          ) -> tuple[dict[str, Any], list[str]]:
    """Resolve the inputs ``names`` from ``argv`` (``-flag value``, ``-flag=value``, ``--flag``),
    ``environ`` and defaults. Returns ``(inputs keyed by Flag.key, positional args)``.

    Raises UsageError (exit 3) naming the flag for an unknown flag or a missing value.
    """
    env = os.environ if environ is None else environ
    flags = [CATALOGUE[n] for n in names]
    by_name = {f.name: f for f in flags}
    given: dict[str, Any] = {}
    positionals: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            positionals.extend(args[i + 1:])
            break
        if not a.startswith("-") or a == "-":
            positionals.append(a)
            i += 1
            continue
        name, eq, value = a.lstrip("-").partition("=")
        flag = by_name.get(name)
        if flag is None:
            raise UsageError(f"unknown flag -{name}")
        if flag.kind == "bool" and not eq:
            given[name] = True if not (i + 1 < len(args) and args[i + 1] in ("true", "false")) \
                else _convert(flag, args[(i := i + 1)], f"-{name}")
        else:
            if not eq:
                if i + 1 >= len(args):
                    raise UsageError(f"flag -{name} needs a value")
                i += 1
                value = args[i]
            conv = _convert(flag, value, f"-{name}")
            if flag.kind == "list":
                given.setdefault(name, []).append(conv)
            else:
                given[name] = conv
        i += 1

    resolved: dict[str, Any] = {}
    for flag in flags:
        if flag.name in given:
            v = given[flag.name]
            resolved[flag.key] = tuple(v) if flag.kind == "list" else v
        elif flag.env and env.get(flag.env) not in (None, ""):
            raw = env[flag.env]
            if flag.kind == "list":
                resolved[flag.key] = tuple(x for x in raw.split(",") if x)
            else:
                resolved[flag.key] = _convert(flag, raw, flag.env)
        else:
            d = flag.default
            resolved[flag.key] = d(_by_name(resolved)) if callable(d) else d
    return resolved, positionals


def _by_name(resolved: Mapping[str, Any]) -> dict[str, Any]:
    return {k.replace("_", "-"): v for k, v in resolved.items()} | dict(resolved)
