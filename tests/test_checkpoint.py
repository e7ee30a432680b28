from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from dgen.checkpoint import load_state, save_state
from dgen.errors import ResumeError
from dgen.rng import rng_state, set_rng_state


def test_round_trip_of_nested_state_with_optimizer(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = {"model": model.state_dict(), "optim": opt.state_dict(), "iteration": 7, "best": (0.5, 3), "none": None}
    save_state(tmp_path / "ck.safetensors", state)
    back = load_state(tmp_path / "ck.safetensors")
    assert back["iteration"] == 7 and back["best"] == (0.5, 3) and back["none"] is None
    torch.testing.assert_close(back["model"]["weight"], model.weight.detach())
    opt2 = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=1.0)
    opt2.load_state_dict(back["optim"])
    assert opt2.param_groups[0]["lr"] == 1e-3
    assert set(back["optim"]["state"]) == {0, 1}
    torch.testing.assert_close(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "ck.safetensors"
    save_state(path, {"x": torch.ones(2)})
    with pytest.raises(TypeError):
        save_state(path, {"x": object()})
    torch.testing.assert_close(load_state(path)["x"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]


def test_corrupt_or_missing_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ResumeError, match="bad.safetensors is unreadable"):
        load_state(bad)
    with pytest.raises(ResumeError, match="does not exist"):
        load_state(tmp_path / "none.safetensors")


def test_rng_state_round_trip_through_checkpoint(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    save_state(tmp_path / "rng.safetensors", rng_state())
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_state(tmp_path / "rng.safetensors"))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_keys_with_slashes_do_not_collide(tmp_path):
    state = {"a/b": torch.zeros(1), "a": {"b": torch.ones(1)}}
    save_state(tmp_path / "s.safetensors", state)
    back = load_state(tmp_path / "s.safetensors")
    torch.testing.assert_close(back["a/b"], torch.zeros(1))
    torch.testing.assert_close(back["a"]["b"], torch.ones(1))
