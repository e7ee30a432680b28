"""Segmenters from segmentation-models-pytorch (smp): ``unet``, ``deeplabv3plus`` and ``smp:<Arch>:<encoder>``.

Every smp architecture (``Unet``, ``UnetPlusPlus``, ``FPN``, ``PSPNet``, ``DeepLabV3``, ``DeepLabV3Plus``,
``Linknet``, ``MAnet``, ``PAN``, ``UPerNet``, ``Segformer``, ``DPT``) with any smp encoder or any timm
model (``tu-<timm name>``) is wrapped, not subclassed, in :class:`SmpSegmenter`. smp is always called
with ``encoder_weights=None``, so nothing is downloaded; pretrained weights come from a local file
(see :mod:`dgen_genseg.segmenters.weights`).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import segmentation_models_pytorch as smp
import timm
import torch
from timm.layers import PatchEmbed
from torch import Tensor, nn

from dgen.errors import ConfigError, UnknownNameError
from dgen.segmenter import Segmenter
from dgen_genseg.segmenters.sizes import check_fixed_size, check_multiple, format_size
from dgen_genseg.segmenters.weights import load_pretrained, read_state_dict

__all__ = [
    "ARCHITECTURES",
    "SMP_PREFIX",
    "SmpSegmenter",
    "check_encoder",
    "make_deeplabv3plus",
    "make_smp",
    "make_smp_from_name",
    "make_unet",
    "parse_smp_name",
]

#: smp architectures by class name (``"Unet"``, ``"DeepLabV3Plus"``, ...).
ARCHITECTURES: dict[str, type[nn.Module]] = {c.__name__: c for c in smp.MODEL_ARCHITECTURES_MAPPING.values()}
#: the prefix of segmenter names built by :func:`make_smp_from_name`.
SMP_PREFIX = "smp:"
#: architectures with a BatchNorm after global average pooling: a training batch needs >= 2 images.
_POOLED_BATCHNORM = frozenset({"DeepLabV3", "DeepLabV3Plus", "PAN", "UPerNet"})
#: arguments the wrapper sets itself or forbids (weights are local only; outputs are always logits).
_RESERVED = {
    "encoder_name": "pass encoder=...",
    "encoder_weights": "weights are never downloaded; pass pretrained=<local file>",
    "activation": "the segmenter always returns logits; apply sigmoid outside",
    "aux_params": "the segmenter returns masks only; a classification head is not supported",
}


def _resolve_arch(arch: str) -> type[nn.Module]:
    by_lower = {name.lower(): cls for name, cls in ARCHITECTURES.items()}
    if arch.lower() not in by_lower:
        raise UnknownNameError("smp architecture", arch, ARCHITECTURES)
    return by_lower[arch.lower()]


def check_encoder(encoder: str) -> None:
    """Raise ``UnknownNameError`` unless ``encoder`` is an smp encoder or ``tu-<timm model>``."""
    if encoder.startswith("tu-"):
        name = encoder[3:]
        if not timm.is_model(name):
            every = timm.list_models()
            close = [f"tu-{c}" for c in difflib.get_close_matches(name, every, n=8, cutoff=0.6)]
            raise UnknownNameError(f"timm encoder (closest of timm's {len(every)} models listed)", encoder, close)
    elif encoder not in smp.encoders.get_encoder_names():
        raise UnknownNameError("smp encoder ('tu-<timm model>' also works)", encoder, smp.encoders.get_encoder_names())


def _fixed_input_size(module: nn.Module) -> tuple[int, int] | None:
    """The input size a timm patch embedding insists on (Swin, ViT), else None."""
    for m in module.modules():
        if isinstance(m, PatchEmbed) and m.strict_img_size and m.img_size is not None:
            return (int(m.img_size[0]), int(m.img_size[1]))
    return None


def _timm_takes_img_size(encoder: str) -> bool:
    """Whether the timm model behind ``tu-<name>`` is built for one input size (probed on the meta device)."""
    if not encoder.startswith("tu-"):
        return False
    try:
        with torch.device("meta"):
            probe = timm.create_model(encoder[3:], pretrained=False)
    except Exception:  # a few timm models cannot be built on the meta device (smp falls back the same way)
        probe = timm.create_model(encoder[3:], pretrained=False)
    return _fixed_input_size(probe) is not None


def _default(cls: type[nn.Module], argument: str) -> Any:
    """The default of ``cls(argument=...)``, or None if ``cls`` has no such argument."""
    parameter = inspect.signature(cls.__init__).parameters.get(argument)
    return None if parameter is None else parameter.default


class SmpSegmenter(Segmenter):
    """An smp model as a :class:`~dgen.segmenter.Segmenter`: images ``(B, C, H, W)`` -> logits ``(B, K, H, W)``.

    Build it with :func:`make_smp` (or :func:`make_unet`, :func:`make_deeplabv3plus`).

    Attributes:
        model: the wrapped smp model.
        multiple: every input side must be a multiple of this (the encoder's output stride).
        minimum: the smallest input side.
        fixed_size: the only accepted ``(H, W)`` for encoders built for one size (timm Swin/ViT), else None.
        min_train_batch: the smallest batch in training mode (2 where a BatchNorm follows global pooling).
    """

    def __init__(self, model: nn.Module, *, arch: str, encoder: str, encoder_depth: int, in_channels: int) -> None:
        super().__init__()
        self.model = model
        self.arch, self.encoder_name, self.encoder_depth, self.in_channels = arch, encoder, encoder_depth, in_channels
        self.multiple = int(model.encoder.output_stride)
        # PAN's feature pyramid attention max-pools the deepest map three times and needs it >= 8 pixels.
        self.minimum = 8 * self.multiple if arch == "PAN" else self.multiple
        self.fixed_size = _fixed_input_size(model.encoder)
        self.min_train_batch = 2 if arch in _POOLED_BATCHNORM else 1

    def forward(self, image: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> logits ``(B, classes, H, W)``."""
        self.check_input_size(image.shape[-2], image.shape[-1])
        if self.training and image.shape[0] < self.min_train_batch:
            raise ConfigError(
                f"{self.arch} got a batch of {image.shape[0]} image in training mode, but its BatchNorm after global "
                f"pooling needs at least {self.min_train_batch}; use batch_size >= {self.min_train_batch} or call "
                f".eval()."
            )
        return self.model(image)

    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ConfigError`` naming the nearest valid sizes unless ``(height, width)`` is accepted."""
        stride_is_depth = self.multiple == 2**self.encoder_depth
        why = f"encoder depth {self.encoder_depth}" if stride_is_depth else f"encoder output stride {self.multiple}"
        min_why = f"{self.arch} needs 8 x output stride {self.multiple}"
        check_multiple(height, width, multiple=self.multiple, why=why, minimum=self.minimum, min_why=min_why)
        if self.fixed_size is not None:
            check_fixed_size(height, width, built_for=self.fixed_size, what=f"encoder '{self.encoder_name}'")

    def check_output_size(self) -> None:
        """Run the model once (eval mode, no grad) on zeros of the smallest valid size and raise ``ConfigError``
        unless the logits keep that size (some smp architectures break with a non-default encoder depth)."""
        size = self.fixed_size or (self.minimum, self.minimum)
        was_training = self.training
        self.eval()
        weight = next(self.parameters())
        with torch.no_grad():
            logits = self.model(torch.zeros(1, self.in_channels, *size, device=weight.device, dtype=weight.dtype))
        self.train(was_training)
        if tuple(logits.shape[-2:]) != tuple(size):
            raise ConfigError(
                f"smp {self.arch} with encoder '{self.encoder_name}' and encoder depth {self.encoder_depth} returns "
                f"{format_size(tuple(logits.shape[-2:]))} logits for {format_size(size)} inputs; this combination "
                f"does not keep the input size; use {self.arch}'s default encoder_depth="
                f"{_default(type(self.model), 'encoder_depth')} and upsampling options."
            )

    def weight_targets(self) -> dict[str, nn.Module]:
        """The parts a pretrained file may cover, by name (see :func:`~.weights.load_pretrained`)."""
        targets = {"segmenter": self, "smp model": self.model, "encoder": self.model.encoder}
        if isinstance(getattr(self.model.encoder, "model", None), nn.Module):
            targets["timm model"] = self.model.encoder.model
        return targets

    def extra_repr(self) -> str:
        return f"arch={self.arch}, encoder={self.encoder_name}, depth={self.encoder_depth}, multiple={self.multiple}"


def make_smp(
    arch: str,
    encoder: str = "resnet34",
    *,
    in_channels: int = 3,
    classes: int = 1,
    encoder_depth: int | None = None,
    pretrained: str | Path | None = None,
    img_size: int | Sequence[int] | None = None,
    **smp_kwargs: Any,
) -> SmpSegmenter:
    """Build any smp architecture with any encoder, randomly initialised unless ``pretrained`` is given.

    Args:
        arch: an smp architecture class name, case-insensitive (``"Unet"``, ``"DeepLabV3Plus"``, ...).
        encoder: an smp encoder (``"resnet34"``, ``"efficientnet-b0"``, ``"mit_b0"``, ...) or
            ``"tu-<timm model>"`` (``"tu-convnext_atto"``, ``"tu-swin_tiny_patch4_window7_224"``).
        in_channels: image channels ``C``.
        classes: output channels ``K`` (1 for binary segmentation).
        encoder_depth: number of encoder stages; None keeps the architecture's default (5 for most,
            3 for PSPNet, 4 for DPT). Unet, UnetPlusPlus and MAnet then use the last ``encoder_depth``
            of their default decoder widths.
        pretrained: a local ``.safetensors`` or torch state-dict file for the whole segmenter, the smp
            model or its encoder (e.g. ImageNet weights); never downloaded.
        img_size: the input size, passed to timm encoders that are built for one size (Swin, ViT);
            other encoders take any valid size and ignore it.
        **smp_kwargs: further arguments of the smp architecture (``decoder_channels``, ...).

    Raises:
        UnknownNameError: unknown architecture or encoder (lists the choices and the closest one).
        ConfigError: an argument smp rejects, a reserved argument, or unusable weights.
    """
    cls = _resolve_arch(arch)
    arch = cls.__name__
    check_encoder(encoder)
    weights = read_state_dict(pretrained) if pretrained is not None else None
    for name, fix in _RESERVED.items():
        if name in smp_kwargs:
            raise ConfigError(f"make_smp got {name}={smp_kwargs[name]!r}, which the wrapper sets itself; {fix}.")
    if in_channels < 1 or classes < 1:
        raise ConfigError(f"in_channels={in_channels} and classes={classes} must both be >= 1; use e.g. 3 and 1.")
    kwargs: dict[str, Any] = dict(smp_kwargs)
    if encoder_depth is not None:
        kwargs["encoder_depth"] = encoder_depth
        widths = _default(cls, "decoder_channels")
        if "decoder_channels" not in smp_kwargs and isinstance(widths, (tuple, list)):
            kwargs["decoder_channels"] = tuple(widths)[-encoder_depth:]
    if img_size is not None and _timm_takes_img_size(encoder):
        kwargs["img_size"] = img_size
    try:
        model = cls(encoder_name=encoder, encoder_weights=None, in_channels=in_channels, classes=classes, **kwargs)
    except (ValueError, KeyError, TypeError, AssertionError, RuntimeError) as err:
        reason = " ".join(str(err).split())
        raise ConfigError(
            f"segmentation_models_pytorch cannot build {arch} with encoder '{encoder}' and {kwargs or 'defaults'}: "
            f"{type(err).__name__}: {reason}; choose another encoder, architecture or option (docs/segmenters.md "
            f"lists the working combinations)."
        ) from err
    depth = encoder_depth if encoder_depth is not None else int(_default(cls, "encoder_depth"))
    segmenter = SmpSegmenter(model, arch=arch, encoder=encoder, encoder_depth=depth, in_channels=in_channels)
    segmenter.check_output_size()
    if weights is not None:
        load_pretrained(weights, segmenter.weight_targets(), in_channels=in_channels, source=str(pretrained))
    return segmenter


def _fixed_arch(arch: str, summary: str) -> Callable[..., SmpSegmenter]:
    """A keyword-only factory for one smp architecture (the registry's ``unet``, ``deeplabv3plus``)."""

    def factory(
        *,
        in_channels: int = 3,
        classes: int = 1,
        encoder: str = "resnet34",
        encoder_depth: int | None = None,
        pretrained: str | Path | None = None,
        img_size: int | Sequence[int] | None = None,
        **smp_kwargs: Any,
    ) -> SmpSegmenter:
        return make_smp(
            arch, encoder, in_channels=in_channels, classes=classes, encoder_depth=encoder_depth,
            pretrained=pretrained, img_size=img_size, **smp_kwargs,
        )  # fmt: skip

    factory.__doc__ = summary
    factory.__name__ = factory.__qualname__ = f"make_{arch.lower()}"
    return factory


#: U-Net (Ronneberger et al. 2015) with an smp/timm encoder.
make_unet = _fixed_arch("Unet", "U-Net (Ronneberger et al. 2015) with an smp/timm encoder; inputs: multiples of ``2**encoder_depth``.")
#: DeepLabV3+ (Chen et al. 2018) with an smp/timm encoder.
make_deeplabv3plus = _fixed_arch(
    "DeepLabV3Plus", "DeepLabV3+ (Chen et al. 2018) with an smp/timm encoder; inputs: multiples of the output stride (16)."
)


def parse_smp_name(name: str) -> tuple[str, str]:
    """``"smp:Unet:tu-convnext_atto"`` -> ``("Unet", "tu-convnext_atto")`` (architecture canonicalised)."""
    arch, sep, encoder = name.removeprefix(SMP_PREFIX).partition(":")
    if not name.startswith(SMP_PREFIX) or not sep or not arch or not encoder:
        raise ConfigError(
            f"segmenter name '{name}' must look like smp:<Arch>:<encoder>, e.g. smp:Unet:resnet34 or "
            f"smp:FPN:tu-convnext_atto."
        )
    return _resolve_arch(arch).__name__, encoder


def make_smp_from_name(name: str, **kwargs: Any) -> SmpSegmenter:
    """Build the segmenter named ``smp:<Arch>:<encoder>`` with the keyword arguments of :func:`make_smp`."""
    arch, encoder = parse_smp_name(name)
    return make_smp(arch, encoder, **kwargs)

