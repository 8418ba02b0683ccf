"""``pypack lifecycle install DIR``: write the phase programs a platform expects under
``/cnb/lifecycle/``: ``analyzer detector restorer builder exporter rebaser creator`` (small
scripts calling the multi-call program with this Python) and ``launcher`` (self-contained,
standard library only, so it also runs inside a run image).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lifecycle.cli.phases import PHASES
from lifecycle.fsutil import atomic_write

_SCRIPT = """#!{python}
# pypack lifecycle phase program; dispatches on its own name.
import sys
from lifecycle.cli.phases import main
sys.exit(main())
"""


def install(dest: str | os.PathLike[str], python: str | None = None) -> list[Path]:
    """Write every phase program into ``dest``; return the paths written."""
    from lifecycle.launch.bundle import write_launcher

    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    body = _SCRIPT.format(python=python or sys.executable).encode()
    for phase in PHASES:
        if phase == "launcher":
            continue
        atomic_write(root / phase, body, mode=0o755)
        written.append(root / phase)
    written.append(Path(write_launcher(str(root))))
    return written
