"""pypack: a Python implementation of the Cloud Native Buildpacks lifecycle and a pack-style CLI.

The import package is ``lifecycle``; see ``../shared/design.md`` for the map of its modules.
"""

__version__ = "0.1.0"
