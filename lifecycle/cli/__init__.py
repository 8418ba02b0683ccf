"""Command-line entry points: ``pypack`` (people) and ``lifecycle`` (the phase program)."""
