"""Command-line entry points: ``pypack`` (people) and ``lifecycle`` (the multi-call phase program)."""
