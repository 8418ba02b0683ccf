"""Stacks: build and run base images made from Debian packages, without Docker and without root.

``pypack stack build`` (issue #5, "Stacks"): a declarative ``stack.toml``
(:mod:`definition`), mirror resolution (:mod:`sources`), a lock file of exact package versions
(:mod:`lock`), a pure plan of ``mmdebstrap --mode=unshare`` calls (:mod:`plan`), the driver
running it (:mod:`mmdebstrap`), a deterministic re-serialisation of its root filesystem tar
(:mod:`rootfs_tar`), the image configuration per platform.md "Build Image"/"Run Image"
(:mod:`assemble`) and the orchestration into the local image store (:mod:`build`).
"""
