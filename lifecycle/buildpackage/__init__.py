"""Buildpackages: buildpacks distributed as OCI images or ``.cnb`` files (distribution.md
"Buildpackage"; cnb-digest §7.1, §9 #15: pack's labels).

``config`` reads pack's ``package.toml``; ``metadata`` is the
``io.buildpacks.buildpackage.metadata`` label; ``source`` opens a buildpackage by reference
(registry, ``oci:``, ``store:``, a ``.cnb`` file); ``contents`` reads the labels of a
buildpackage and extracts its buildpacks; ``plan`` decides a new one without I/O and
``package`` makes it (``pypack buildpack package``); ``cnbfile`` writes and reads ``.cnb``
files; ``inspect`` summarises one; ``scaffold`` and ``templates`` write a new buildpack
(``pypack buildpack new``).
"""
