"""The ``steer`` method: each steered variable moves and is recorded, the pool and the held-out fold behave,
and the run leaves its learned variables and their pictures (``dgen generate --min-utility`` reads them)."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch
from PIL import Image

from dgen.checkpoint import load_weights
from dgen.errors import ConfigError, DataError
from dgen.steer import MAX_MAGNITUDES
from dgen_genseg.generate import UTILITY_FILE, generate
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import GenSegBatch, synthetic_plus_real_loss
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.steer.crossfit import CrossFit, check_folds
from dgen_genseg.pipeline.steer.appearance_option import DEFAULT_APPEARANCE_TRANSFORMS, parse_appearance_transforms
from dgen_genseg.pipeline.steer.geometry_option import parse_geometry_transforms
from dgen_genseg.pipeline.steer.saved import read_appearance
from dgen_genseg.pipeline.steer.variables import parse_steer

#: a pool smaller than the run and refilled during it; a hypergradient at every iteration from the first steered one
#: (the tiny run has 6, fewer than steer's default hyper_start and hyper_every)
EVERY = {"hyper_start": "0", "hyper_every": "1"}
POOL = {"pool_size": "6", "pool_refresh": "4", **EVERY}


def _rows(run):
    with (run / "log.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _number(cell: str) -> float:
    return math.nan if cell in ("", "nan") else float(cell)


@pytest.fixture(scope="module")
def steer_run(tiny, tmp_path_factory):
    """A tiny steer run of appearance (three of its transforms, blur among them) and weights (the generator is not
    steered: its images are rendered once)."""
    run = tmp_path_factory.mktemp("steer") / "run"
    metrics = tiny.run(run, method="steer", steer="appearance,weights", appearance_transforms="noise,blur,brightness",
                       **POOL)
    return run, metrics


def test_steer_learns_appearance_and_pair_weights_and_leaves_them_with_their_pictures(tiny, steer_run):
    run, metrics = steer_run
    assert metrics["method"] == "steer" and metrics["iterations"] == tiny.total
    rows = _rows(run)
    steered = rows[int(tiny.values["warmup_iterations"]):]
    assert steered and all(math.isfinite(_number(r["steer"])) and _number(r["steer_grad_norm"]) > 0 for r in steered)
    assert all(r["hyper"] == "1" for r in steered) and "gen_grad_norm" not in rows[0]
    magnitudes = {k: [_number(r[k]) for r in steered] for k in rows[0] if k.startswith("app_")}
    assert set(magnitudes) == {"app_brightness", "app_noise", "app_blur"}
    assert all(values[0] != values[-1] for values in magnitudes.values()), "every magnitude is steered"
    spread = [_number(r["w_max"]) - _number(r["w_min"]) for r in steered]
    assert max(spread) > 0, "the pair weights move apart from 1"
    pool = load_weights(run / "synthetic_pool.safetensors")
    assert pool["masks"].shape[0] == pool["weights"].shape[0] == pool["sources"].shape[0] == 6
    assert set(pool["masks"].unique().tolist()) <= {0.0, 1.0} and bool(((pool["weights"] > 0) & (pool["weights"] < 2)).all())
    final = json.loads((run / "appearance.json").read_text())["magnitudes"]
    assert final["brightness"] == pytest.approx(magnitudes["app_brightness"][-1], rel=1e-5)
    learned = read_appearance(run, torch.device("cpu"), ("brightness", "noise", "blur"))
    assert learned is not None and {k: float(v.detach()) for k, v in learned.magnitudes().items()} == pytest.approx(final, rel=1e-6)
    older = read_appearance(run, torch.device("cpu"), ("brightness", "noise"))  # a run from before the option: no blur
    assert older is not None and older.transforms == ("brightness", "noise")
    with pytest.raises(DataError, match="appearance.safetensors has no learned gamma .* use an intact run directory"):
        read_appearance(run, torch.device("cpu"), ("gamma", "noise"))
    for picture in ("utility.png", "appearance.png", "samples.png", "loss-curves.png"):
        assert Image.open(run / picture).size[0] >= 400, picture


@pytest.mark.parametrize("steer", ["generator", "arch", "appearance,weights,generator,arch"])
def test_each_variable_inside_the_generator_is_steered(tiny, tmp_path, steer):
    run = tmp_path / "run"
    tiny.run(run, method="steer", steer=steer, **POOL)
    steered = _rows(run)[int(tiny.values["warmup_iterations"]):]
    if "generator" in steer:
        assert all(_number(r["gen_grad_norm"]) > 0 and math.isfinite(_number(r["gen"])) for r in steered)
    if "arch" in steer:
        alphas = [v for k, v in load_weights(run / "generator.safetensors").items() if k.endswith(".alpha")]
        assert any(not torch.equal(a, torch.zeros_like(a)) for a in alphas), "α moved from uniform"
        assert all(_number(r["steer_grad_norm"]) > 0 for r in steered)


def test_hyper_every_computes_the_hypergradient_every_kth_iteration(tiny, tmp_path):
    run = tmp_path / "run"
    tiny.run(run, method="steer", steer="appearance", hyper_every="2", hyper_start="0")
    steered = _rows(run)[int(tiny.values["warmup_iterations"]):]
    assert [r["hyper"] for r in steered] == ["1", "0"] * (len(steered) // 2)
    brightness = [_number(r["app_brightness"]) for r in steered]
    moved = [brightness[i] != brightness[i - 1] for i in range(1, len(brightness))]
    assert moved == [i % 2 == 0 for i in range(1, len(brightness))], "appearance moves only on hypergradient iterations"


@pytest.mark.parametrize("method", ["steer", "genseg"])
def test_hyper_start_lets_the_segmenter_train_alone_first(tiny, tmp_path, method):
    run = tmp_path / "run"
    tiny.run(run, method=method, hyper_start="3", hyper_every="1", **({"steer": "appearance"} if method == "steer" else {}))
    steered = _rows(run)[int(tiny.values["warmup_iterations"]):]
    assert len(steered) == 6 and all(math.isfinite(_number(r["seg"])) for r in steered)
    column = "steer_grad_norm" if method == "steer" else "arch_grad_norm"
    assert [math.isfinite(_number(r[column])) for r in steered] == [False] * 3 + [True] * 3
    if method == "steer":
        assert [r["hyper"] for r in steered] == ["0"] * 3 + ["1"] * 3
        brightness = {_number(r["app_brightness"]) for r in steered[:3]}
        assert len(brightness) == 1 and _number(steered[3]["app_brightness"]) not in brightness


def test_steer_waits_8_iterations_for_its_first_hypergradient_by_default_and_genseg_none(tiny):
    from test_fixes_wired import _method

    assert _method(tiny, method="steer").mlo.solver.hyper_start == 8
    assert _method(tiny, method="genseg").mlo.solver.hyper_start == 0
    assert _method(tiny, method="steer", hyper_start="2").mlo.solver.hyper_start == 2
    assert _method(tiny, method="genseg", hyper_start="2").mlo.solver.hyper_start == 2


@pytest.mark.parametrize("initial", [None, "0.5", "0.99"])
def test_appearance_initial_sets_where_every_magnitude_starts(tiny, initial):
    from test_fixes_wired import _method

    overrides = {} if initial is None else {"appearance_initial": initial}
    appearance = _method(tiny, method="steer", steer="appearance", **overrides).appearance
    fraction = 0.1 if initial is None else float(initial)
    got = {name: float(value.detach()) for name, value in appearance.magnitudes().items()}
    assert set(got) == set(parse_appearance_transforms(DEFAULT_APPEARANCE_TRANSFORMS))
    assert got == pytest.approx({name: fraction * MAX_MAGNITUDES[name] for name in got}, rel=1e-6)


@pytest.mark.parametrize("value", ["0", "1", "-0.2"])
def test_appearance_initial_outside_its_range_is_refused(tiny, tmp_path, value):
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress",
                      "--method", "steer:appearance", *tiny.set_args(appearance_initial=value))
    line = tiny.error_line(result)
    assert result.exit_code == 1 and "appearance_initial" in line and "(0, 0.99]" in line
    assert not (tmp_path / "run").exists()


def test_steer_takes_a_hypergradient_every_8th_iteration_by_default_and_genseg_every_one(tiny):
    from test_fixes_wired import _method

    assert _method(tiny, method="steer").mlo.solver.hyper_every == 8
    assert _method(tiny, method="genseg").mlo.solver.hyper_every == 1
    assert _method(tiny, method="steer", hyper_every="1").mlo.solver.hyper_every == 1
    assert _method(tiny, method="genseg", hyper_every="4").mlo.solver.hyper_every == 4


def test_crossfit_holds_out_a_rotating_fold_and_trains_on_the_others():
    images = torch.arange(10, dtype=torch.float32).view(10, 1, 1, 1).expand(10, 3, 2, 2).clone()
    masks = torch.zeros(10, 1, 2, 2)
    sampler = PairSampler.__new__(PairSampler)
    sampler.images, sampler.masks = images, masks
    crossfit = CrossFit(sampler, folds=3, every=2, seed=0)
    assert sorted(torch.cat(crossfit.folds).tolist()) == list(range(10)), "the folds partition the pairs"
    assert [crossfit.held_out(i) for i in range(7)] == [0, 0, 1, 1, 2, 2, 0]
    for iteration in range(6):
        held = set(crossfit.folds[crossfit.held_out(iteration)].tolist())
        for _ in range(5):
            real, _ = crossfit.real(iteration, 4)
            upper, _ = crossfit.upper(iteration, 4)
            assert not {int(v) for v in real[:, 0, 0, 0]} & held
            assert {int(v) for v in upper[:, 0, 0, 0]} <= held
    with pytest.raises(ConfigError, match="crossfit_folds=6 needs at least 12 training pairs; this run has 10; "
                                          "lower it, e.g. --set crossfit_folds=5"):
        check_folds(10, 6)
    check_folds(10, 5)


def test_a_crossfit_run_trains_without_validation_batches(tiny, tmp_path):
    with pytest.raises(ConfigError, match="crossfit_folds=3 needs at least 6 training pairs; this run has 5"):
        tiny.run(tmp_path / "refused", method="steer", steer_objective="crossfit", crossfit_folds="3")
    assert not (tmp_path / "refused").exists(), "refused before anything is written"
    metrics = tiny.run(tmp_path / "run", method="steer", steer_objective="crossfit", crossfit_folds="2", **POOL)
    steered = _rows(tmp_path / "run")[int(tiny.values["warmup_iterations"]):]
    assert metrics["method"] == "steer" and all(math.isfinite(_number(r["steer"])) for r in steered)


def test_generate_writes_each_pairs_learned_weight_and_filters_by_utility(steer_run, tmp_path):
    run, _ = steer_run
    weights = load_weights(run / "synthetic_pool.safetensors")["weights"]
    result = generate(run, 5, tmp_path / "all", device="cpu")
    with (tmp_path / "all" / UTILITY_FILE).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["case"] for r in rows] == result.cases
    written = [float(r["weight"]) for r in rows]  # 6 significant digits: each is one of the pool's weights
    assert all(min(abs(w - float(v)) for v in weights) <= 5e-6 * w for w in written), written
    threshold = float(weights.median())
    generate(run, 8, tmp_path / "kept", device="cpu", min_utility=threshold)
    kept = [float(r.split(",")[2]) for r in (tmp_path / "kept" / UTILITY_FILE).read_text().splitlines()[1:]]
    assert len(kept) == 8 and min(kept) >= threshold - 1e-6
    with pytest.raises(ConfigError, match="keeps none of the run's 6 synthetic pairs"):
        generate(run, 2, tmp_path / "none", device="cpu", min_utility=float(weights.max()) + 1e-3)
    with pytest.raises(ConfigError, match="--min-utility 3 is invalid"):
        generate(run, 2, tmp_path / "bad", device="cpu", min_utility=3.0)


def test_min_utility_needs_a_run_with_learned_weights(reference_run, tmp_path):
    with pytest.raises(ConfigError, match="has no learned pair weights .*method 'genseg'"):
        generate(reference_run, 2, tmp_path / "out", device="cpu", min_utility=1.0)


def test_steer_options_are_checked_and_refused_for_other_methods():
    assert parse_steer("weights, appearance") == ("appearance", "weights")
    with pytest.raises(ConfigError, match="unknown variable 'apperance'. Did you mean 'appearance'"):
        GenSegConfig(steer="apperance")
    with pytest.raises(ConfigError, match="is empty"):
        GenSegConfig(steer="none")
    with pytest.raises(ConfigError, match="lists an variable twice|lists a variable twice"):
        parse_steer("arch,arch")
    with pytest.raises(ConfigError, match="pool_size"):
        GenSegConfig(pool_size=0)
    assert parse_appearance_transforms(" blur,gamma") == ("gamma", "blur")
    assert "blur" not in parse_appearance_transforms(GenSegConfig().appearance_transforms)
    with pytest.raises(ConfigError, match="unknown transform 'blurr'. Did you mean 'blur'"):
        GenSegConfig(appearance_transforms="gamma,blurr")
    with pytest.raises(ConfigError, match="appearance_transforms list '' is empty"):
        GenSegConfig(appearance_transforms="")


def test_other_methods_refuse_steer_options(tiny, tmp_path):
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress",
                      *tiny.set_args(steer="weights"))
    assert "steer='weights' is not read by method 'genseg' (only by steer)" in tiny.error_line(result)


@pytest.mark.parametrize("option, variable, shown", [({"appearance_transforms": "blur"}, "appearance", "'blur'"),
                                                     ({"appearance_on": "real"}, "appearance", "'real'"),
                                                     ({"appearance_initial": "0.5"}, "appearance", "0.5"),
                                                     ({"geometry_transforms": "rotate"}, "geometry", "'rotate'"),
                                                     ({"geometry_on": "conditions"}, "geometry", "'conditions'")])
def test_transform_options_without_their_variable_are_refused(tiny, tmp_path, option, variable, shown):
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress",
                      "--method", "steer:weights", *tiny.set_args(**option))
    (name, _), = option.items()
    assert f"{name}={shown} is read only when {variable} is steered, and this run steers weights" in (
        tiny.error_line(result))


def test_the_geometry_warps_synthetic_pairs_learns_its_magnitudes_and_leaves_them_with_their_picture(tiny, tmp_path):
    run = tmp_path / "run"
    tiny.run(run, method="steer", steer="geometry", geometry_transforms="scale,rotate", geometry_lr="0.05", **EVERY)
    steered = _rows(run)[int(tiny.values["warmup_iterations"]):]
    assert {k for k in steered[0] if k.startswith(("geo_", "app_"))} == {"geo_rotate", "geo_scale"}
    for name in ("geo_rotate", "geo_scale"):
        assert _number(steered[0][name]) != _number(steered[-1][name]), name
    final = json.loads((run / "geometry.json").read_text())["magnitudes"]
    assert final["rotate"] == pytest.approx(_number(steered[-1]["geo_rotate"]), rel=1e-5)
    assert set(load_weights(run / "geometry.safetensors")) == {"raw.rotate", "raw.scale"}
    assert Image.open(run / "geometry.png").size[0] >= 400
    assert parse_geometry_transforms("translate, rotate") == ("rotate", "translate")
    with pytest.raises(ConfigError, match="unknown transform 'rotation'. Did you mean 'rotate'"):
        GenSegConfig(geometry_transforms="rotation")


@pytest.mark.parametrize("geometry_on", ["pairs", "conditions"])
def test_the_geometry_moves_a_synthetic_image_and_its_mask_together(tiny, geometry_on):
    """pairs: the rendered image and its mask warped by one draw; conditions: the mask warped, and the image the
    generator renders from it (nothing rendered ahead)."""
    from test_fixes_wired import _method

    from dgen.mlo import Context
    from dgen_genseg.pipeline.steer.levels import SteerBatch

    method = _method(tiny, method="steer", steer="geometry", geometry_on=geometry_on, **EVERY)
    method.step(int(tiny.values["warmup_iterations"]))
    with torch.no_grad():
        for raw in method.geometry.raw.values():
            raw.fill_(3.0)  # large warps
    batch = method.sample_batch(int(tiny.values["warmup_iterations"]) + 1)
    assert batch.geometry_draw is not None and batch.geometry_draw.batch == batch.pairs.aug_masks.shape[0]
    assert (batch.rendered is None) == (geometry_on == "conditions")
    with torch.no_grad():
        images, masks = method.synthesis.pairs(Context(), batch)
        if geometry_on == "pairs":
            plain = method.synthesis.images(Context(), SteerBatch(batch.pairs, batch.index, batch.rendered))
            expected = method.geometry(plain, batch.pairs.aug_masks, batch.geometry_draw)
        else:
            warped, _ = method.geometry(batch.pairs.aug_masks, batch.pairs.aug_masks[:, :0], batch.geometry_draw)
            expected = method.synthesis.images(Context(), batch, warped), warped
    torch.testing.assert_close(images, expected[0])
    torch.testing.assert_close(masks, expected[1])
    assert not torch.allclose(masks, batch.pairs.aug_masks), "the masks are warped, not the images alone"


def test_appearance_on_the_real_pairs_is_steered_through_them(tiny, tmp_path):
    """appearance_on=real: no synthetic draw, so the magnitudes move only through the real images."""
    run = tmp_path / "run"
    tiny.run(run, method="steer", steer="appearance", appearance_on="real", appearance_transforms="gamma,noise",
             **EVERY)
    steered = _rows(run)[int(tiny.values["warmup_iterations"]):]
    for name in ("app_gamma", "app_noise"):
        assert _number(steered[0][name]) != _number(steered[-1][name]), name
    with pytest.raises(ConfigError, match="unknown target 'reel'. Did you mean 'real'"):
        GenSegConfig(appearance_on="synthetic,reel")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_every_steered_variable_runs_on_cuda(tiny, tmp_path):
    """The random draws come from CPU generators and move to the data's device (a CPU generator asked for CUDA
    numbers fails); every variable, the real pairs' appearance and the geometry included."""
    run = tmp_path / "run"
    metrics = tiny.run(run, device="cuda", method="steer", steer="appearance,geometry,weights,generator,arch",
                       appearance_on="synthetic,real", **POOL)
    assert metrics["device"].startswith("cuda") and math.isfinite(metrics["val"]["dice"])
    for name in ("appearance.png", "geometry.png", "utility.png"):
        assert (run / name).is_file(), name


def test_weights_of_one_give_the_unweighted_loss():
    torch.manual_seed(0)
    logits = torch.randn(6, 1, 4, 4, dtype=torch.float64)
    masks = (torch.rand(6, 1, 4, 4) > 0.5).double()
    batch = GenSegBatch(torch.rand(3, 3, 4, 4, dtype=torch.float64), masks[3:], masks[:3], masks[:0], masks[:0])
    segment = lambda x: logits[: x.shape[0]] + x.mean()  # noqa: E731 (a stand-in segmenter)
    from dgen_genseg.metrics import bce_dice_loss

    synthetic = torch.rand(3, 3, 4, 4, dtype=torch.float64)
    plain = synthetic_plus_real_loss(segment, bce_dice_loss, synthetic, batch, 0.5)
    ones = synthetic_plus_real_loss(segment, bce_dice_loss, synthetic, batch, 0.5, weights=torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(ones, plain, rtol=1e-12, atol=1e-12)
    zero_first = synthetic_plus_real_loss(segment, bce_dice_loss, synthetic, batch, 0.5,
                                          weights=torch.tensor([0.0, 1.5, 1.5], dtype=torch.float64))
    assert not torch.allclose(zero_first, plain)


def test_a_member_of_the_steer_family_names_its_variables(tiny, tmp_path):
    from dgen_genseg.pipeline.steer.variables import DEFAULT_STEER, steer_variables

    assert steer_variables("steer:weights+appearance", DEFAULT_STEER) == ("appearance", "weights")
    assert steer_variables("steer", "arch") == ("arch",)
    with pytest.raises(ConfigError, match="names its variables, and steer='arch' names others"):
        steer_variables("steer:weights", "arch")
    with pytest.raises(ConfigError, match="unknown variable 'wieghts'. Did you mean 'weights'"):
        steer_variables("steer:wieghts", DEFAULT_STEER)
    tiny.run(tmp_path / "run", method="steer:arch", **EVERY)
    steered = _rows(tmp_path / "run")[int(tiny.values["warmup_iterations"]):]
    assert not any(k.startswith(("app_", "w_")) for k in steered[0]) and all(_number(r["steer_grad_norm"]) > 0
                                                                               for r in steered)
