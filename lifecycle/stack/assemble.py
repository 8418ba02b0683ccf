"""Stack images: one layer from the root filesystem plus the config platform.md asks for.

Platform API 0.15 platform.md "Build Image", "Run Image", "Target Data" and the deprecated
"``io.buildpacks.stack.*`` Labels": ``User`` (uid:gid of the CNB user), ``Env`` with ``PATH``,
``CNB_USER_ID``, ``CNB_GROUP_ID`` (and ``CNB_STACK_ID`` on the build image), ``os``/``architecture``
(and ``variant``), labels ``io.buildpacks.base.{distro.name,distro.version,maintainer,homepage,
released,description,metadata,id}``, ``io.buildpacks.stack.id`` and, on the run image,
``io.buildpacks.rebasable``. Everything derives from the definition, the package list and the
timestamp, so the same inputs give the same config bytes.

An image made from a base image (in-house stack, issue #7) keeps the base's layers, history
and config, with the same labels set over the base's, the definition's env over the base's,
and the CNB user's ``User``/``CNB_USER_ID``/``CNB_GROUP_ID`` when the definition names one
(:func:`based_config`, :func:`assemble_on`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from lifecycle.oci import mutate
from lifecycle.oci.config import History
from lifecycle.oci.image import Image, ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import EPOCH_1980
from lifecycle.platform import labels as L
from lifecycle.stack.definition import DEFAULT_PATH, Distro, ImageSpec, StackDefinition

KEY_LABEL = "io.pypack.stack.key"
"""The cache key (:func:`lifecycle.stack.plan.stack_key`) the image was built from."""
NAME_LABEL = "io.pypack.stack.name"
BASE_LABEL = "io.pypack.stack.base"
"""On an image made from a base image: ``LOCATION@DIGEST`` of that base."""

_PLATFORMS = {"amd64": ("amd64", None), "arm64": ("arm64", None), "armhf": ("arm", "v7"),
              "armel": ("arm", "v5"), "i386": ("386", None), "ppc64el": ("ppc64le", None),
              "s390x": ("s390x", None), "riscv64": ("riscv64", None),
              "mips64el": ("mips64le", None)}


def platform_for(arch: str) -> Platform:
    """The OCI platform of Debian architecture ``arch``."""
    oci_arch, variant = _PLATFORMS.get(arch, (arch, None))
    return Platform("linux", oci_arch, variant)


def debian_arch(platform: Platform) -> str:
    """The Debian architecture of an OCI platform (``arm``/``v7`` -> ``armhf``)."""
    for deb, (oci_arch, variant) in _PLATFORMS.items():
        if oci_arch == platform.architecture and variant in (None, platform.variant):
            return deb
    return platform.architecture


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What goes into one stack image's config besides the layer."""

    user: str
    env: Mapping[str, str]
    labels: Mapping[str, str]
    created: int
    history: str


def image_config(defn: StackDefinition, spec: ImageSpec, packages: Mapping[str, str], *,
                 key: str, epoch: int) -> ImageConfig:
    """The config of ``spec``'s image (pure)."""
    u = spec.user
    distro = defn.debian_distro()
    env = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", "CNB_USER_ID": str(u.uid),
           "CNB_GROUP_ID": str(u.gid)}
    if spec.role == "build":
        env["CNB_STACK_ID"] = defn.id
    env.update(spec.env)
    labels = {
        L.BASE_DISTRO_NAME: distro.name,
        L.BASE_DISTRO_VERSION: distro.version,
        L.STACK_ID: defn.id,
        L.BASE_METADATA: json.dumps({"stack": defn.name, "distro": {"codename":
                                     distro.codename}, "packages": dict(packages)},
                                    sort_keys=True, separators=(",", ":")),
        KEY_LABEL: key,
        NAME_LABEL: defn.name,
    }
    optional = {L.BASE_MAINTAINER: defn.maintainer, L.BASE_HOMEPAGE: defn.homepage,
                L.BASE_DESCRIPTION: spec.description or defn.description}
    labels.update({k: v for k, v in optional.items() if v})
    if epoch != EPOCH_1980:
        labels[L.BASE_RELEASED] = mutate.rfc3339(epoch)
    if spec.role == "run":
        labels[L.BASE_ID] = defn.id
        labels[L.REBASABLE] = "true"
    history = (f"pypack stack build {defn.name}: mmdebstrap --variant={spec.variant} "
               f"{distro.codename} ({len(packages)} packages)")
    return ImageConfig(f"{u.uid}:{u.gid}", env, labels, epoch, history)


def assemble(layer: BlobLayer, platform: Platform, cfg: ImageConfig) -> ImageValue:
    """The image: ``layer`` on an empty base for ``platform`` with ``cfg`` applied."""
    created = mutate.rfc3339(cfg.created)
    img = mutate.append_layers(empty_image(platform), [layer],
                               history=[History(created=created, created_by=cfg.history)])
    img = mutate.with_env(img, cfg.env, merge=False)
    img = mutate.with_user(img, cfg.user)
    img = mutate.with_labels(img, cfg.labels, merge=False)
    return mutate.with_created(img, cfg.created)



@dataclass(frozen=True, slots=True)
class BasedInputs:
    """What an image made from a base needs besides the definition: the base's location and
    digest, its distro, every installed package, the CNB user to set (None: keep the base's)
    and a summary of the additions for the history entry."""

    location: str
    digest: str
    distro: Distro
    packages: Mapping[str, str]
    user: tuple[int, int] | None
    summary: str


def based_config(defn: StackDefinition, spec: ImageSpec, base_labels: Mapping[str, str],
                 base_user: str | None, inp: BasedInputs, *, key: str,
                 epoch: int) -> ImageConfig:
    """The config changes of an image made from a base (pure): labels over the base's,
    env over the base's (``ImageConfig.env`` holds only what is set)."""
    env: dict[str, str] = {}
    user = base_user or ""
    if inp.user is not None:
        user = f"{inp.user[0]}:{inp.user[1]}"
        env.update({"CNB_USER_ID": str(inp.user[0]), "CNB_GROUP_ID": str(inp.user[1])})
    if spec.role == "build":
        env["CNB_STACK_ID"] = defn.id
    env.update(spec.env)
    meta = {"stack": defn.name, "distro": {"codename": inp.distro.codename},
            "packages": dict(inp.packages), "base": {"image": inp.location,
                                                     "digest": inp.digest}}
    labels = dict(base_labels)
    for stale in (L.BASE_RELEASED, L.BASE_MAINTAINER, L.BASE_HOMEPAGE, L.BASE_DESCRIPTION,
                  L.BASE_ID, L.REBASABLE):
        labels.pop(stale, None)
    labels.update({
        L.BASE_DISTRO_NAME: inp.distro.name, L.BASE_DISTRO_VERSION: inp.distro.version,
        L.STACK_ID: defn.id, KEY_LABEL: key, NAME_LABEL: defn.name,
        L.BASE_METADATA: json.dumps(meta, sort_keys=True, separators=(",", ":")),
        BASE_LABEL: f"{inp.location}@{inp.digest}"})
    optional = {L.BASE_MAINTAINER: defn.maintainer, L.BASE_HOMEPAGE: defn.homepage,
                L.BASE_DESCRIPTION: spec.description or defn.description}
    labels.update({k: v for k, v in optional.items() if v})
    if epoch != EPOCH_1980:
        labels[L.BASE_RELEASED] = mutate.rfc3339(epoch)
    if spec.role == "run":
        labels[L.BASE_ID] = defn.id
        labels[L.REBASABLE] = "true"
    history = f"pypack stack build {defn.name}: {inp.summary} on {inp.location}"
    return ImageConfig(user, env, labels, epoch, history)


def assemble_on(base: Image, layer: BlobLayer | None, cfg: ImageConfig) -> ImageValue:
    """``base`` with ``layer`` (if any) on top and ``cfg`` applied."""
    created = mutate.rfc3339(cfg.created)
    hist = History(created=created, created_by=cfg.history, empty_layer=layer is None)
    cf = base.config()
    keep_history = bool(cf.history) or not base.layers()
    if layer is not None:
        img = mutate.append_layers(base, [layer], history=[hist])
    else:
        img = mutate.with_config(base, replace(cf, history=(*cf.history, hist)))
    if not keep_history:  # a base without history: do not start one that misses layers
        img = mutate.with_config(img, replace(img.config(), history=()))
    img = mutate.with_env(img, cfg.env)
    img = mutate.with_user(img, cfg.user or None)
    img = mutate.with_labels(img, cfg.labels, merge=False)
    return mutate.with_created(img, cfg.created)
