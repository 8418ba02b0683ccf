"""Builder images: a build image plus the lifecycle, buildpacks, ``/cnb/order.toml`` and
``/cnb/run.toml``, labelled as pack labels them (cnb-digest §7.3, distribution.md).

``config`` reads pack's ``builder.toml``; ``sources`` turns its buildpack entries into
directories; ``layers`` writes the deterministic layer tars; ``plan`` decides, without I/O,
what goes into the image (files, order, labels); ``create`` is the edge that reads the build
image and writes the builder; ``inspect`` reads a builder's labels back; ``labels`` holds the
label models.
"""
