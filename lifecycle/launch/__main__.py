"""``python3 -m lifecycle.launch [--] [<cmd> <args>...]``: run the launcher.

See `platform.md` "launcher" and ``lifecycle.launch.launcher``.
"""

from __future__ import annotations

import sys

from lifecycle.launch.launcher import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
