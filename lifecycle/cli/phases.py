"""The multi-call phase program: ``lifecycle detector ...`` or a link named ``detector`` to it.

Each phase lives in its own module ``lifecycle.cli.phase_<name>`` exposing ``run(argv) -> int``;
this dispatcher only picks it by the name called (argv[0] basename, else argv[1]).
Standard library only up to the dispatch, so ``launcher`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

PHASES = ("analyzer", "detector", "restorer", "builder", "exporter", "rebaser", "creator",
          "launcher")


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the phase named by how we were called; return its exit code."""
    args = list(sys.argv if argv is None else argv)
    called = os.path.basename(args[0]) if args else "lifecycle"
    if called in PHASES:
        phase, rest = called, args[1:]
    elif len(args) > 1 and args[1] in PHASES:
        phase, rest = args[1], args[2:]
    else:
        sys.stderr.write("usage: lifecycle <" + "|".join(PHASES) + "> [flags]\n")
        return 3
    try:
        module = importlib.import_module(f"lifecycle.cli.phase_{phase}")
    except ModuleNotFoundError as e:
        if e.name != f"lifecycle.cli.phase_{phase}":
            raise
        sys.stderr.write(f"ERROR: {phase}: not implemented in this version of pypack\n")
        return 1
    code: int = module.run(rest)
    return code


if __name__ == "__main__":
    sys.exit(main())
