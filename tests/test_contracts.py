"""Contract tests over every registered component, plugins included (timm-style).

Each registration may carry ``tiny={...}``: keyword arguments of a small instance for these
tests. Tasks backed by files use ``../shared/data`` when it exists and skip otherwise.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from dgen.augmenter import Augmenter
from dgen.errors import ConfigError, DataError, SolverError
from dgen.generator import Generator
from dgen.pipeline import Pipeline
from dgen.plugins import get_plugins
from dgen.segmenter import Segmenter
from dgen.task import Splits, Task
from dgen.toy import build_toy_problem

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def entries(kind):
    return [pytest.param(e, id=e.qualified_name) for e in get_plugins().registry(kind).entries()]


def tiny(entry):
    return dict(entry.meta.get("tiny", {}))


@pytest.mark.parametrize("entry", entries("segmenters"))
def test_segmenter_contract(entry):
    torch.manual_seed(0)
    name = entry.meta.get("tiny_member", entry.name)
    model = get_plugins().registry("segmenters").create(name, in_channels=1, classes=2, img_size=32, **tiny(entry))
    assert isinstance(model, Segmenter)
    model.check_input_size(32, 32)
    with pytest.raises(ConfigError, match=r"\d"):
        model.check_input_size(33, 33)
    out = model(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 2, 32, 32) and torch.isfinite(out).all()
    out.square().mean().backward()
    used = [p for p in model.parameters() if p.grad is not None]
    assert used and all(torch.isfinite(p.grad).all() for p in used)


@pytest.mark.parametrize("entry", entries("generators"))
def test_generator_contract(entry):
    torch.manual_seed(0)
    gen = get_plugins().registry("generators").create(entry.name, in_channels=1, out_channels=3, **tiny(entry))
    assert isinstance(gen, Generator)
    arch, weights = gen.arch_parameters(), gen.weight_parameters()
    assert arch, "a searchable generator must expose architecture parameters"
    assert {id(p) for p in arch}.isdisjoint(id(p) for p in weights)
    assert {id(p) for p in arch} | {id(p) for p in weights} == {id(p) for p in gen.parameters()}
    out = gen(torch.randint(0, 2, (2, 1, 32, 32)).float() * 2 - 1)
    assert out.shape == (2, 3, 32, 32) and torch.isfinite(out).all()
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in arch), "alpha gets no gradient"


@pytest.mark.parametrize("entry", entries("augmenters"))
def test_augmenter_contract(entry):
    aug = get_plugins().registry("augmenters").create(entry.name, **tiny(entry))
    assert isinstance(aug, Augmenter)
    masks = torch.zeros(3, 1, 32, 32)
    masks[:, :, 8:24, 10:20] = 1
    images = torch.rand(3, 3, 32, 32)
    out_masks, out_images = aug(masks, images, generator=torch.Generator().manual_seed(0))
    assert out_masks.shape == masks.shape and out_images.shape == images.shape
    assert set(out_masks.unique().tolist()) <= {0.0, 1.0}
    again, none = aug(masks, generator=torch.Generator().manual_seed(0))
    assert none is None and torch.equal(again, out_masks), "same seed must give the same masks, with or without images"


@pytest.mark.parametrize("entry", entries("solvers"))
def test_solver_contract(entry):
    problem, data = build_toy_problem(0, n_train=4, n_val=4, n_aug=4)
    try:
        solver = get_plugins().registry("solvers").create(entry.name, problem=problem)
    except SolverError as err:  # e.g. first_order on a level whose hypergradient it cannot give
        assert "unroll" in str(err)
        return
    before = [p.detach().clone() for p in problem.level("arch").params]
    stats = solver.step(data.batch(0))
    assert {"loss/arch", "loss/gen", "loss/seg"} <= set(stats)
    assert any(not torch.equal(b, p) for b, p in zip(before, problem.level("arch").params)), "alpha did not move"
    solver.load_state_dict(solver.state_dict())


@pytest.mark.parametrize("entry", entries("tasks"))
def test_task_contract(entry):
    kwargs = tiny(entry)
    if entry.name == "folder":
        kwargs["data_dir"] = SHARED_DATA / "drive"
    try:
        task = get_plugins().registry("tasks").create(entry.name, data_root=SHARED_DATA, **kwargs) \
            if "data_root" in _params(entry.factory) else get_plugins().registry("tasks").create(entry.name, **kwargs)
    except DataError as err:
        if not SHARED_DATA.is_dir():
            pytest.skip(f"{entry.name} needs files: {err}")
        raise
    assert isinstance(task, Task)
    splits = task.splits()
    assert isinstance(splits, Splits) and len(splits.train) > 0 and len(splits.val) > 0 and splits.test
    assert set(splits.out_of_domain) <= set(splits.test)
    assert splits.ids and task.splits(saved=splits.ids).ids == splits.ids
    image, mask = splits.train[0]
    assert image.shape[0] == task.channels and mask.shape[0] == task.mask_channels


def _params(factory):
    import inspect

    return inspect.signature(factory).parameters


@pytest.mark.parametrize("entry", entries("pipelines"))
def test_pipeline_contract(entry):
    pipeline = get_plugins().registry("pipelines").create(entry.name)
    assert isinstance(pipeline, Pipeline)
    config = pipeline.config_class()  # every option has a default
    assert dataclasses.is_dataclass(config)
