"""smp segmenters: names, errors that name the fix, input sizes, local pretrained weights, no downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
import segmentation_models_pytorch as smp
import torch
from safetensors.torch import save_file

from dgen.errors import ConfigError, UnknownNameError
from dgen_genseg.segmenters import make_deeplabv3plus, make_smp, make_smp_from_name, make_unet, parse_smp_name
from dgen_genseg.segmenters.smp import check_encoder


def _tiny_unet(**kw):
    return make_unet(encoder="resnet18", decoder_channels=(16, 16, 8, 8, 8), **kw)


def test_parse_smp_name_canonicalises_the_architecture() -> None:
    assert parse_smp_name("smp:Unet:resnet34") == ("Unet", "resnet34")
    assert parse_smp_name("smp:unetplusplus:tu-convnext_atto") == ("UnetPlusPlus", "tu-convnext_atto")
    assert parse_smp_name("smp:DeepLabV3Plus:tu-resnet18.a1_in1k") == ("DeepLabV3Plus", "tu-resnet18.a1_in1k")


@pytest.mark.parametrize("name", ["smp:Unet", "smp::resnet34", "smp:Unet:", "unet:resnet34"])
def test_malformed_smp_names_show_the_form(name: str) -> None:
    with pytest.raises(ConfigError, match=r"smp:<Arch>:<encoder>, e\.g\. smp:Unet:resnet34"):
        parse_smp_name(name)


def test_unknown_architecture_lists_choices_and_closest() -> None:
    with pytest.raises(UnknownNameError, match=r"'Unett'\. Did you mean 'Unet'\? Available: .*DeepLabV3Plus.*UPerNet"):
        make_smp_from_name("smp:Unett:resnet18")


def test_unknown_encoder_lists_smp_encoders_and_closest() -> None:
    with pytest.raises(UnknownNameError, match=r"'resnt34'\. Did you mean 'resnet34'\? Available: .*efficientnet-b0"):
        make_unet(encoder="resnt34")


def test_unknown_timm_encoder_suggests_the_closest_timm_model() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'tu-convnext_atto'\?"):
        check_encoder("tu-convnext_ato")


@pytest.mark.parametrize(
    ("option", "fix"),
    [({"encoder_weights": "imagenet"}, "pretrained=<local file>"), ({"activation": "sigmoid"}, "logits")],
)
def test_reserved_options_are_refused_with_the_fix(option: dict, fix: str) -> None:
    with pytest.raises(ConfigError, match=fix):
        make_unet(encoder="resnet18", **option)


def test_incompatible_combination_becomes_a_config_error() -> None:
    # timm's Swin has no output_stride, which DeepLabV3+ needs for its dilated encoder
    with pytest.raises(ConfigError, match=r"cannot build DeepLabV3Plus with encoder 'tu-swin_tiny.*output_stride"):
        make_deeplabv3plus(encoder="tu-swin_tiny_patch4_window7_224", img_size=64)


def test_an_architecture_that_breaks_with_a_depth_is_caught_at_construction() -> None:
    # smp's FPN upsamples by a fixed 4 and returns 2x too large logits with encoder_depth=4
    with pytest.raises(ConfigError, match=r"returns 32x32 logits for 16x16 inputs.*default encoder_depth=5"):
        make_smp("FPN", "resnet18", encoder_depth=4)


def test_encoder_depth_sets_the_multiple_and_the_decoder_widths() -> None:
    model = make_unet(encoder="resnet18", encoder_depth=4)
    assert model.multiple == 16
    assert len(model.model.decoder.blocks) == 4
    assert model(torch.rand(2, 3, 48, 48)).shape == (2, 1, 48, 48)
    with pytest.raises(ConfigError, match=r"input 40x40 is not divisible by 16 \(encoder depth 4\); use 32 or 48\."):
        model.check_input_size(40, 40)


def test_check_input_size_messages() -> None:
    model = _tiny_unet()
    with pytest.raises(ConfigError, match=r"^input 250x250 is not divisible by 32 \(encoder depth 5\); use 224 or 256\.$"):
        model.check_input_size(250, 250)
    with pytest.raises(ConfigError, match="use a height of 224 or 256 and a width of 288 or 320"):
        model.check_input_size(250, 300)
    model.check_input_size(256, 320)
    deeplab = make_deeplabv3plus(encoder="resnet18", decoder_channels=16)
    with pytest.raises(ConfigError, match=r"not divisible by 16 \(encoder output stride 16\); use 64 or 80"):
        deeplab.check_input_size(70, 70)
    pan = make_smp("PAN", "resnet18")
    with pytest.raises(ConfigError, match=r"smaller than the minimum 128 \(PAN needs 8 x output stride 16\)"):
        pan.check_input_size(64, 64)


def test_deeplab_needs_two_images_per_training_batch() -> None:
    model = make_deeplabv3plus(encoder="resnet18", decoder_channels=16)
    with pytest.raises(ConfigError, match=r"batch of 1 image in training mode.*use batch_size >= 2 or call \.eval\(\)"):
        model(torch.rand(1, 3, 64, 64))
    assert model.eval()(torch.rand(1, 3, 64, 64)).shape == (1, 1, 64, 64)


def test_timm_swin_encoder_is_built_for_img_size() -> None:
    model = make_smp_from_name("smp:Unet:tu-swin_tiny_patch4_window7_224", img_size=64, decoder_channels=(16,) * 5)
    assert model.fixed_size == (64, 64)
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 1, 64, 64)
    with pytest.raises(ConfigError, match=r"built for 64x64 inputs but got 128x128; rebuild it with img_size=128"):
        model.check_input_size(128, 128)


def test_missing_pretrained_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; .*never downloaded"):
        _tiny_unet(pretrained=tmp_path / "absent.safetensors")


def test_unreadable_pretrained_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match=r"cannot read pretrained weights .*broken\.pt") as info:
        _tiny_unet(pretrained=tmp_path / "broken.pt")
    assert "\n" not in str(info.value)


def test_construction_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def download(*args: object, **kwargs: object) -> None:
        raise AssertionError("smp tried to download weights")

    monkeypatch.setattr(smp.encoders, "hf_hub_download", download)
    _tiny_unet()
    make_deeplabv3plus(encoder="resnet18", decoder_channels=16)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_pretrained_whole_segmenter_round_trips(tmp_path: Path, suffix: str) -> None:
    torch.manual_seed(0)
    source = _tiny_unet().eval()
    path = tmp_path / f"unet{suffix}"
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    save_file(state, str(path)) if suffix == ".safetensors" else torch.save(state, path)
    torch.manual_seed(1)
    loaded = _tiny_unet(pretrained=path).eval()
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(loaded(x), source(x), rtol=0, atol=0)


def test_pretrained_encoder_file_adapts_rgb_to_one_channel(tmp_path: Path) -> None:
    torch.manual_seed(0)
    rgb = _tiny_unet()
    encoder_state = dict(rgb.model.encoder.state_dict())  # keys like conv1.weight, layer1.0.conv1.weight
    encoder_state["fc.weight"] = torch.zeros(10, 512)  # a classifier head in the file is ignored
    torch.save(encoder_state, tmp_path / "resnet18.pt")
    gray = _tiny_unet(in_channels=1, pretrained=tmp_path / "resnet18.pt")
    expected = rgb.model.encoder.conv1.weight.sum(dim=1, keepdim=True)  # smp's rule for one channel
    torch.testing.assert_close(gray.model.encoder.conv1.weight, expected, rtol=0, atol=0)
    torch.testing.assert_close(gray.model.encoder.layer4[1].conv2.weight, rgb.model.encoder.layer4[1].conv2.weight)


def test_pretrained_file_of_another_model_names_the_mismatch(tmp_path: Path) -> None:
    torch.save(make_smp("FPN", "resnet18").state_dict(), tmp_path / "fpn.pt")
    with pytest.raises(ConfigError, match=r"lack \d+ tensors of the segmenter.*same architecture"):
        _tiny_unet(pretrained=tmp_path / "fpn.pt")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="match no part of the model"):
        _tiny_unet(pretrained=tmp_path / "other.pt")
