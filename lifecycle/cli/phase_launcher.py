"""The ``launcher`` phase for the multi-call ``lifecycle`` program (`platform.md` "launcher").

``lifecycle launcher [--] [<cmd> <args>...]`` or a link named ``launcher``. Process-type links
(``/cnb/process/<type>``) are served by the self-contained launcher file the exporter installs
(``lifecycle.launch.bundle``), whose argv[0] is the link. Imports only ``lifecycle.launch``.
"""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.launch.launcher import main


def run(argv: Sequence[str]) -> int:
    """Launch with ``argv`` (the arguments after the phase name). Returns only on failure."""
    return main(["launcher", *argv])
