"""Methods are registered components: every registered genseg method keeps the method contract, a third-party
plugin can add one that ``dgen run genseg --method`` uses, and unknown names list the choices."""

from __future__ import annotations

import csv
import json
import types
from typing import final

import pytest
import torch

import dgen.cli
import dgen.plugins
from dgen.checkpoint import load_state, save_state
from dgen.config import build_config
from dgen.errors import RegistryError, UnknownNameError
from dgen.hookspecs import hookimpl
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.methods import CLASSIC, build_trainer, method_entries, method_entry
from dgen_genseg.pipeline.parts import SEG_LOSSES, PairStream, Schedule, SegmenterStep, Updates
from dgen_genseg.pipeline.parts.networks import make_segmenter
from dgen_genseg.pipeline.preflight import make_task
from dgen_genseg.pipeline.sampler import PairSampler

CPU = torch.device("cpu")


def _config(tiny, **overrides) -> GenSegConfig:
    return resolve_preset(build_config(GenSegConfig, {**tiny.values, **overrides}), CPU)[0]


def _trainer(tiny, method: str):
    """The tiny run's trainer of ``method``, built as the pipeline builds it (seeded: two calls give the same)."""
    config = _config(tiny, method=method)
    task = make_task(config)
    splits = task.splits()
    torch.manual_seed(config.seed)
    return build_trainer(config, task, PairSampler(splits.train, CPU, config.seed), PairSampler(splits.val, CPU, 1), CPU)


def _strong_missing(name: str) -> bool:
    return CLASSIC.get(name) == "strong" and "strong" not in dgen.plugins.registry("augmenters")


def test_the_builtin_methods_are_the_classic_list_and_the_generative_ones():
    names = {e.name for e in method_entries()}
    assert names == {*CLASSIC, "separate", "wgan", "genseg", "joint", "steer"}
    assert {e.name for e in method_entries() if e.meta.get("generator") == "pix2pix"} == {"separate", "genseg", "joint", "steer"}


@pytest.mark.parametrize("name", [e.name for e in method_entries()])
def test_method_contract(tiny, name, one_thread, tmp_path):
    if _strong_missing(name):
        pytest.skip("strong augmenter not registered")
    trainer = _trainer(tiny, name)
    method = trainer.method
    assert {"seg", "skipped"} <= set(method.columns) and len(set(method.columns)) == len(method.columns)
    assert trainer.total_iterations == method.schedule.total >= trainer.segmenter_starts >= 0
    assert trainer.seg_opt is method.seg.optimizer and trainer.segmenter is method.seg.segmenter
    assert all(isinstance(n, torch.nn.Module) for n in method.networks().values())
    assert "seg_lr" in trainer.nan_advice("seg")
    before = {k: v.clone() for k, v in trainer.segmenter.state_dict().items()}
    for iteration in range(trainer.segmenter_starts + 1):  # the warm-up, if any, then one segmenter iteration
        stats = trainer.step(iteration)
        assert set(stats) <= set(method.columns), f"{name} logs {set(stats) - set(method.columns)} outside its columns"
        assert stats["skipped"] == 0.0
    assert stats["seg"] > 0, "the last iteration trains the segmenter"
    changed = [k for k, v in trainer.segmenter.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed, "a segmenter iteration must update the segmenter"

    save_state(tmp_path / "state.safetensors", trainer.state_dict())  # as a checkpoint does: no tensor shared
    state = load_state(tmp_path / "state.safetensors")
    assert {"segmenter", "seg_opt", "train", "aug_generator"} <= set(state)
    fresh = _trainer(tiny, name)
    fresh.load_state_dict(state)
    for key, value in fresh.state_dict()["segmenter"].items():
        torch.testing.assert_close(value, state["segmenter"][key], rtol=0, atol=0)
    iteration = trainer.segmenter_starts + 1
    torch.manual_seed(1)
    expected = trainer.step(iteration)
    torch.manual_seed(1)
    assert fresh.step(iteration) == expected, "a restored method continues exactly as the saved one"


def test_an_unknown_method_lists_the_methods_and_the_closest():
    with pytest.raises(UnknownNameError) as caught:
        method_entry("jiont")
    assert "unknown method 'jiont'. Did you mean 'joint'?" in str(caught.value)
    assert all(name in str(caught.value) for name in (*CLASSIC, "separate", "wgan", "genseg", "joint"))


def test_an_entry_of_another_pipeline_is_not_a_genseg_method(monkeypatch):
    @hookimpl
    def register_methods(register):
        register("elsewhere", object, pipeline="toy")

    plugins = dgen.plugins.load_plugins(None, extra={"other": types.SimpleNamespace(register_methods=register_methods)})
    monkeypatch.setattr(dgen.plugins, "get_plugins", lambda: plugins)
    with pytest.raises(UnknownNameError, match="unknown method 'elsewhere'"):
        method_entry("elsewhere")


@final
class TwiceEach:
    """A third party's method: classic training with two segmenter steps on every real batch."""

    columns, solver_name = ("seg", "skipped"), None
    steps: list[int] = []

    def __init__(self, config, segmenter, train):
        self.schedule, self.updates = Schedule(config.iterations), Updates(config)
        self.seg = SegmenterStep(config, segmenter, SEG_LOSSES[config.seg_loss], self.updates)
        self.data = PairStream(config, train)

    @classmethod
    def build(cls, *, config, task, train, val, device):
        return cls(config, make_segmenter(config, task, device), train)

    def step(self, iteration):
        images, masks = self.data.real()
        for _ in range(2):
            self.steps.append(iteration)
            stats = self.seg.on_real(images, masks)
        return stats

    def saved(self):
        return {}

    def networks(self):
        return {}

    def write_artifacts(self, run_dir, seed):
        (run_dir / "twice.txt").write_text("two steps per batch\n")


@hookimpl
def register_methods(register):
    register("twice_each", TwiceEach.build, pipeline="genseg", description="two segmenter steps per batch")


def test_a_third_party_method_is_listed_and_run_by_dgen_run_genseg(tiny, tmp_path, monkeypatch):
    plugins = dgen.plugins.load_plugins(None, extra={"acme": types.SimpleNamespace(register_methods=register_methods)})
    for module in (dgen.plugins, dgen.cli):
        monkeypatch.setattr(module, "get_plugins", lambda: plugins)
    listed = tiny.cli("list", "methods")
    assert listed.exit_code == 0 and "twice_each" in listed.stdout and "acme" in listed.stdout
    TwiceEach.steps.clear()
    run = tmp_path / "run"
    result = tiny.cli("run", "genseg", "--out", str(run), "--device", "cpu", "--no-progress", "--method", "twice_each",
                      *tiny.set_args())
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    iterations = int(tiny.values["iterations"])
    assert metrics["method"] == "twice_each" and metrics["iterations"] == iterations and metrics["solver"] is None
    assert TwiceEach.steps == [i for i in range(iterations) for _ in range(2)]
    with (run / "log.csv").open(newline="") as handle:
        assert next(csv.reader(handle))[:3] == ["iteration", "seg", "skipped"]
    assert (run / "twice.txt").is_file() and (run / "segmenter.safetensors").is_file()


def _acme_declaring(reads):
    """The loaded plugins with plugin 'acme' registering TwiceEach with ``reads``."""

    @hookimpl
    def register_methods(register):
        register("twice_each", TwiceEach.build, pipeline="genseg", reads=reads)

    return dgen.plugins.load_plugins(None, extra={"acme": types.SimpleNamespace(register_methods=register_methods)})


def test_a_third_party_method_reading_no_such_option_is_refused_naming_it_the_closest_and_the_fix(tiny, tmp_path,
                                                                                                 monkeypatch):
    plugins = _acme_declaring(("real_augmentor",))
    for module in (dgen.plugins, dgen.cli):
        monkeypatch.setattr(module, "get_plugins", lambda: plugins)
    for method in ("twice_each", "genseg"):  # a malformed registration is refused whatever the run's method
        line = tiny.error_line(tiny.cli("run", "genseg", "--out", str(tmp_path / method), "--device", "cpu",
                                        "--no-progress", "--method", method, *tiny.set_args()))
        assert ("plugin 'acme' registers method 'twice_each' with reads=('real_augmentor',): 'real_augmentor' is not "
                "an option of the genseg pipeline. Did you mean 'real_augmenter'?") in line, line
        assert "fix its register(..., reads=...) or leave the plugin out with DGEN_PLUGINS" in line
        assert not (tmp_path / method).exists(), "refused before anything was written"


@pytest.mark.parametrize("reads, says", [
    (("seg_lr",), "'seg_lr' is an option every method reads, not a method option"),
    ("real_augmenter", "reads must be a tuple of option names, e.g. reads=('real_augmenter',)"),
    (("real_augmenter", 3), "reads must be a tuple of option names"),
    (("zzz",), "'zzz' is not an option of the genseg pipeline; method options: appearance_initial, appearance_lr, appearance_on, appearance_transforms,"),
])
def test_a_declared_reads_that_is_not_a_list_of_method_options_is_refused_at_lookup(reads, says, monkeypatch):
    plugins = _acme_declaring(reads)
    monkeypatch.setattr(dgen.plugins, "get_plugins", lambda: plugins)
    for lookup in (method_entries, lambda: method_entry("none")):
        with pytest.raises(RegistryError, match="^plugin 'acme' registers method 'twice_each'") as caught:
            lookup()
        assert says in str(caught.value)


def test_a_third_party_method_declaring_method_options_is_accepted(monkeypatch):
    plugins = _acme_declaring(["real_augmenter", "seg_batchnorm"])
    monkeypatch.setattr(dgen.plugins, "get_plugins", lambda: plugins)
    assert method_entry("twice_each").meta["reads"] == ["real_augmenter", "seg_batchnorm"]


class _Writer:
    """Records what TensorBoard would be sent."""

    def __init__(self) -> None:
        self.scalars, self.images = [], []

    def add_scalar(self, tag, value, step):
        self.scalars.append(tag)

    def add_image(self, tag, image, step):
        self.images.append(tag)


@pytest.mark.parametrize("name, images", [("genseg", ["predictions", "samples"]), ("wgan", ["predictions"]),
                                          ("none", ["predictions"])])
def test_tensorboard_reads_what_it_needs_from_a_method_trainer(tiny, name, images, one_thread):
    from dgen_genseg.pipeline.tensorboard import TensorBoardLog

    writer = _Writer()
    TensorBoardLog(writer).log(0, {"seg": 1.0, "val_dice": 0.5}, _trainer(tiny, name))
    assert writer.images == images
    assert any(tag.startswith("arch_entropy/") for tag in writer.scalars) == (name == "genseg")
