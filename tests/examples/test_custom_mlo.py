"""``examples/custom_mlo/reweight.py``: per-sample weights learnt through dgen.mlo's public API.

The hypergradient is checked in float64 against central finite differences of a look-ahead computed
here with plain torch; then a few steps must move the weights where it points (flipped labels down).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_mlo"


@pytest.fixture
def reweight(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import reweight

    return reweight


def _val_loss_after_one_sgd_step(exp, logits: torch.Tensor, lr: float) -> float:
    """Reference: L_val(theta - lr * grad_theta L_train(theta, v)) with plain autograd on a copy of the model."""
    model = copy.deepcopy(exp.model)
    b = exp.batch
    train = (torch.sigmoid(logits) * F.cross_entropy(model(b.x), b.y, reduction="none")).mean()
    grads = torch.autograd.grad(train, list(model.parameters()))
    with torch.no_grad():
        for p, g in zip(model.parameters(), grads):
            p -= lr * g
        return float(F.cross_entropy(model(b.x_val), b.y_val))


def test_hypergradient_equals_finite_differences_in_float64(reweight):
    exp = reweight.build(seed=1, dtype=torch.float64, lr_model=0.5)
    with torch.no_grad():  # a non-uniform point, so sigmoid'(v) differs between samples
        exp.logits.copy_(torch.linspace(-1.0, 1.0, exp.logits.numel(), dtype=torch.float64))
    (hyper,) = exp.solver.hypergradients(exp.batch)["weights"]  # (N,)
    eps = 1e-6
    coords = [0, 5, 17, 40, 63]
    numeric = []
    for i in coords:
        step = torch.zeros_like(exp.logits)
        step[i] = eps
        plus = _val_loss_after_one_sgd_step(exp, exp.logits.detach() + step, 0.5)
        minus = _val_loss_after_one_sgd_step(exp, exp.logits.detach() - step, 0.5)
        numeric.append((plus - minus) / (2 * eps))
    torch.testing.assert_close(hyper[coords], torch.tensor(numeric, dtype=torch.float64), rtol=1e-6, atol=1e-12)


def test_weights_move_against_the_hypergradient_and_flipped_labels_lose_weight(reweight):
    torch.set_num_threads(1)
    exp = reweight.build(seed=0)
    (hyper,) = exp.solver.hypergradients(exp.batch)["weights"]  # at the start: every weight 0.5
    # the hypergradient itself separates the samples: positive (weight down) for most flipped labels
    assert (hyper[exp.corrupted] > 0).float().mean() > 0.8
    assert (hyper[~exp.corrupted] < 0).float().mean() > 0.8
    before = exp.logits.detach().clone()
    exp.solver.step(exp.batch)
    moved = exp.logits.detach() - before
    clear = hyper.abs() > 1e-6
    assert torch.equal(torch.sign(moved[clear]), -torch.sign(hyper[clear]))  # the first Adam step is -lr * sign(g)
    for _ in range(19):
        exp.solver.step(exp.batch)
    result = reweight.summary(exp)
    assert result["weight_corrupted"] < 0.35 < 0.65 < result["weight_clean"]


def test_script_runs_from_the_command_line(reweight, capsys):
    result = reweight.main(["--steps", "10", "--seed", "2"])
    assert "step 10: val loss" in capsys.readouterr().out
    assert result["weight_corrupted"] < result["weight_clean"] and 0 <= result["test_accuracy"] <= 1
    baseline = reweight.main(["--steps", "3", "--uniform"])
    assert baseline["weight_corrupted"] == baseline["weight_clean"] == 0.5  # the baseline leaves the weights alone
