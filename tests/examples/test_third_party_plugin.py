"""The example plugin ``examples/third_party_plugin`` (dgen-casefolder), loaded as dgen loads an installed one.

Nothing is pip-installed: the package folder goes on ``sys.path`` and the plugin module is loaded with
``load_plugins(extra=...)``, next to the installed plugins; that set is made the process-wide one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import dgen.cli
import dgen.plugins
from dgen.augmenter import Augmenter
from dgen.errors import ConfigError, DataError
from dgen.plugins import load_plugins
from dgen.task import Task

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "third_party_plugin"
TINY = {
    "augmenter": "dihedral", "n_labeled": "6", "image_size": "32", "num_downs": "3", "ngf": "4", "ndf": "4",
    "iterations": "2", "warmup_iterations": "1", "val_every": "1",
    "backbone_options": '{"encoder": "resnet18", "encoder_depth": 3}',
}
runner = CliRunner()


@pytest.fixture
def example(monkeypatch):
    """The example package importable, its plugin loaded beside the installed ones, process-wide."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables must not wrap names
    monkeypatch.delenv("DGEN_PLUGINS", raising=False)
    import dgen_casefolder.plugin

    plugins = load_plugins(None, extra={"casefolder": dgen_casefolder.plugin})
    for module in (dgen.plugins, dgen.cli):
        monkeypatch.setattr(module, "get_plugins", lambda: plugins)
    return plugins


@pytest.fixture
def cases(example, tmp_path) -> Path:
    from dgen_casefolder.demo_data import write_demo_cases

    write_demo_cases(tmp_path / "cases", n=16, size=40)
    return tmp_path / "cases"


def test_pyproject_declares_the_plugin_module():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["dgen"] == {"casefolder": "dgen_casefolder.plugin"}
    assert "dgen>=0.1" in project["dependencies"]


def test_dgen_plugins_and_list_show_it(example):
    result = runner.invoke(dgen.cli.app, ["plugins"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "casefolder" in line)
    assert "dgen_casefolder.plugin" in row and "0.1.0" in row
    assert re.search(r"augmenters: dihedral; tasks: casefolder", row)
    for kind, name in (("tasks", "casefolder"), ("augmenters", "dihedral")):
        listed = runner.invoke(dgen.cli.app, ["list", kind])
        assert listed.exit_code == 0, listed.output
        assert re.search(rf"{name}\s+│\s+casefolder\s+│", listed.output), listed.output


def test_task_splits_follow_the_protocol(cases, tmp_path):
    from dgen_casefolder.demo_data import write_demo_cases

    write_demo_cases(tmp_path / "clinic_b", n=3, size=24, seed=1)
    task = dgen.plugins.create("tasks", "casefolder", data_dir=cases, ood_dirs=(tmp_path / "clinic_b",),
                               n_labeled=10, image_size=16, seed=3)
    assert isinstance(task, Task)
    splits = task.splits()
    assert [len(splits.ids[k]) for k in ("train", "val", "test", "clinic_b")] == [8, 2, 4, 3]
    assert splits.out_of_domain == {"clinic_b"}
    assert not set(splits.ids["test"]) & set(splits.ids["train"] + splits.ids["val"])
    image, mask = splits.train[0]
    assert image.shape == (3, 16, 16) and mask.shape == (1, 16, 16)
    assert 0 <= image.min() and image.max() <= 1 and set(mask.unique().tolist()) <= {0.0, 1.0}
    other_seed = dgen.plugins.create("tasks", "casefolder", data_dir=cases, n_labeled=10, image_size=16, seed=4)
    assert other_seed.splits().ids["test"] == splits.ids["test"]  # the test set does not depend on the seed
    again = task.splits(saved={k: v for k, v in splits.ids.items()})
    torch.testing.assert_close(again.train.tensors[0], splits.train.tensors[0], rtol=0, atol=0)


def test_task_errors_name_the_fix(cases, tmp_path):
    with pytest.raises(DataError, match=r"case folder .*empty.cases does not exist; pass --data-dir DIR"):
        dgen.plugins.create("tasks", "casefolder", data_root=tmp_path / "empty")
    with pytest.raises(ConfigError, match="use 1 \\(grey\\) or 3"):
        dgen.plugins.create("tasks", "casefolder", data_dir=cases, channels=4)
    with pytest.raises(DataError, match="lower --n-labeled"):
        dgen.plugins.create("tasks", "casefolder", data_dir=cases, n_labeled=13)
    (cases / "case_003" / "label.png").unlink()
    with pytest.raises(DataError, match=r"1 case\(s\) .* lack image.png or label.png \(case_003\)"):
        dgen.plugins.create("tasks", "casefolder", data_dir=cases)


def test_the_project_contract_tests_pass_on_its_components(cases, monkeypatch):
    import test_contracts  # tests/test_contracts.py: what every registered component must do

    monkeypatch.setattr(test_contracts, "get_plugins", dgen.plugins.get_plugins)  # the set with the example in it
    monkeypatch.setattr(test_contracts, "SHARED_DATA", cases.parent)  # the task's default folder: <data root>/cases
    test_contracts.test_task_contract(dgen.plugins.registry("tasks").get("casefolder"))
    test_contracts.test_augmenter_contract(dgen.plugins.registry("augmenters").get("dihedral"))


def test_dihedral_is_exact_aligned_and_per_sample(example):
    from dgen_casefolder.augmenter import dihedral_transform

    aug = dgen.plugins.create("augmenters", "dihedral")
    assert isinstance(aug, Augmenter)
    masks = (torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()  # (B, 1, H, W)
    images = torch.cat([masks, 1 - masks, torch.rand(64, 1, 8, 8)], dim=1)  # (B, 3, H, W)
    out_masks, out_images = aug(masks, images, generator=torch.Generator().manual_seed(1))
    found = set()
    for i in range(64):
        k = next(k for k in range(8) if torch.equal(dihedral_transform(images[i], k), out_images[i]))
        found.add(k)
        assert torch.equal(out_masks[i], dihedral_transform(masks[i], k))  # the mask got its image's transform
    assert found == set(range(8))  # each sample draws its own element
    again, _ = aug(masks, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(again, out_masks, rtol=0, atol=0)
    wide, _ = aug(torch.ones(16, 1, 4, 6), generator=torch.Generator().manual_seed(2))
    assert wide.shape == (16, 1, 4, 6)
    with pytest.raises(DataError, match=r"expected \(B, 1, H, W\)"):
        aug(torch.ones(2, 3, 4, 4))


def test_dgen_run_genseg_with_the_plugins_task_and_augmenter(cases, tmp_path):
    torch.set_num_threads(1)
    sets = [arg for key, value in {**TINY, "data_dir": str(cases)}.items() for arg in ("--set", f"{key}={value}")]
    out = tmp_path / "run"
    result = runner.invoke(dgen.cli.app, ["run", "genseg", "--task", "casefolder", *sets, "--out", str(out),
                                          "--device", "cpu", "--no-progress"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "casefolder" and metrics["n_train"] == 5 and metrics["iterations"] == 3
    assert set(metrics["test"]) == {"test"} and 0 <= metrics["test"]["test"]["dice"] <= 1
    assert json.loads((out / "config.json").read_text())["augmenter"] == "dihedral"
    assert Image.open(out / "samples.png").size[0] > 0
