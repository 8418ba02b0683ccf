"""The buildpack interface (buildpack.md): descriptors, orders, running bin/detect, plan
resolution, targets, and the environment of buildpack programs."""
