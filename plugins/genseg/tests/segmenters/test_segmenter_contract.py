"""The contract every GenSeg segmenter keeps, checked on tiny configurations of each one.

Named segmenters (``unet``, ``deeplabv3plus``, ``swinunet``) are checked strictly; every smp
architecture (``smp:<Arch>:tu-resnet10t``) is checked for shape, finiteness, gradients and size errors.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from dgen.errors import ConfigError
from dgen.segmenter import Segmenter
from dgen_genseg.segmenters import ARCHITECTURES, make_deeplabv3plus, make_smp_from_name, make_swinunet, make_unet

IN, K, B = 1, 2, 2  # grayscale in, two classes out: checks channel plumbing, not just the RGB/binary defaults

#: name -> (tiny factory, a valid size, the size multiple)
NAMED: dict[str, tuple[Callable[[], Segmenter], int, int]] = {
    "unet": (lambda: make_unet(in_channels=IN, classes=K, encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8)), 64, 32),
    "deeplabv3plus": (lambda: make_deeplabv3plus(in_channels=IN, classes=K, encoder="resnet18", decoder_channels=32), 64, 16),
    "swinunet": (lambda: make_swinunet(img_size=64, in_channels=IN, classes=K, embed_dim=24, drop_path_rate=0.0), 64, 32),
}


#: the only architecture with parameters its forward never uses: smp's DPT keeps the timm classifier head.
#: (timm encoders are built features-only, so unlike smp's own ResNets they hold no unused stages.)
UNUSED_ENCODER_PARTS = {"DPT"}


#: narrower decoders than smp's defaults, to keep the test fast on a CPU
SMALL_DECODERS: dict[str, dict] = {
    "DPT": dict(decoder_intermediate_channels=(16, 16, 16, 16), decoder_fusion_channels=16, decoder_readout="ignore"),
    "Unet": dict(decoder_channels=(16,) * 5),
    "UnetPlusPlus": dict(decoder_channels=(16,) * 5),
    "MAnet": dict(decoder_channels=(16,) * 5),
    "UPerNet": dict(decoder_channels=32),
}


def _smp_case(arch: str) -> tuple[str, int, dict]:
    """A small timm ResNet (5M parameters) for every architecture, the size it accepts, small decoder options."""
    return f"smp:{arch}:tu-resnet10t", 128 if arch == "PAN" else 64, SMALL_DECODERS.get(arch, {})  # PAN: 8 x 16


def _images(size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(B, IN, size, size, generator=torch.Generator().manual_seed(0), dtype=dtype)


@pytest.mark.parametrize("name", NAMED)
def test_forward_shape_and_every_parameter_gets_a_finite_gradient(name: str) -> None:
    factory, size, _ = NAMED[name]
    torch.manual_seed(0)
    model = factory()
    assert isinstance(model, Segmenter)
    logits = model(_images(size))
    assert logits.shape == (B, K, size, size)
    assert torch.isfinite(logits).all()
    logits.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"{name}: parameters without gradient: {missing[:5]}"
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p.grad).all()]
    assert not bad, f"{name}: non-finite gradients in {bad[:5]}"


@pytest.mark.parametrize("name", NAMED)
def test_same_seed_gives_the_same_network_and_output(name: str) -> None:
    factory, size, _ = NAMED[name]
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        outputs.append(factory().eval()(_images(size)))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    torch.manual_seed(124)
    assert not torch.equal(factory().eval()(_images(size)), outputs[0]), "a different seed must change the weights"


@pytest.mark.parametrize("name", NAMED)
def test_float64(name: str) -> None:
    factory, size, _ = NAMED[name]
    torch.manual_seed(0)
    logits = factory().double()(_images(size, torch.float64))
    assert logits.dtype == torch.float64 and logits.shape == (B, K, size, size)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", NAMED)
def test_check_input_size_accepts_valid_and_names_the_fix(name: str) -> None:
    factory, size, multiple = NAMED[name]
    model = factory()
    model.check_input_size(size, size)
    bad = size + multiple // 2 + 1  # e.g. 81 for multiple 32: nearest valid are 64 and 96
    with pytest.raises(ConfigError, match=rf"not divisible by {multiple}.*use {size} or {size + multiple}"):
        model.check_input_size(bad, bad)
    with pytest.raises(ConfigError, match="not divisible"):  # forward checks too: no RuntimeError from deep inside
        model(_images(bad))


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_smp_architecture(arch: str) -> None:
    name, size, options = _smp_case(arch)
    torch.manual_seed(0)
    model = make_smp_from_name(name, in_channels=IN, classes=K, **options)
    logits = model(_images(size))
    assert logits.shape == (B, K, size, size) and torch.isfinite(logits).all()
    logits.square().mean().backward()
    unused = {n for n, p in model.named_parameters() if p.grad is None}
    assert all(n.startswith("model.encoder.") for n in unused), sorted(unused)[:5]  # never decoder or head parts
    assert bool(unused) == (arch in UNUSED_ENCODER_PARTS), sorted(unused)[:5]
    with pytest.raises(ConfigError, match="not divisible"):
        model.check_input_size(size + 1, size + 1)
