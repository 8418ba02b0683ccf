"""The launcher: start an app image's process (`platform.md` "launcher", `buildpack.md` "Launch").

Modules, pure core first:

- ``metadata``: ``<layers>/config/metadata.toml`` as values (`platform.md` "metadata.toml").
- ``process``: which process to run and with which argv (pure; `platform.md` "launcher" Inputs).
- ``layers``: scans launch layers into a value (the only file-tree reader).
- ``env``: the launch environment: hygiene and env-file rules (pure; `buildpack.md` "Environment").
- ``shell``: the bash program for shell (non-direct) launches (pure).
- ``plan``: composes the above into a ``LaunchPlan`` (pure).
- ``execd``: runs ``exec.d`` programs with fd 3 (`buildpack.md` "Exec.d").
- ``launcher``: the thin edge: read, run exec.d, chdir, ``execve``.
- ``bundle``: writes the self-contained launcher file the exporter puts in images.

Everything here imports only the standard library, ``lifecycle.errors`` and ``lifecycle.api``:
the launcher runs inside run images that have nothing but ``python3``.
"""
