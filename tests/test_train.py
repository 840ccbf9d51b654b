"""Training mechanics that the data and export tests do not reach."""

from __future__ import annotations

import torch

from models.train import update_average


def test_the_average_moves_toward_the_model_by_one_minus_the_decay():
    average, model = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        average.weight.fill_(0.0)
        model.weight.fill_(1.0)
        model.running_mean.fill_(2.0)
    model.num_batches_tracked.fill_(7)

    update_average(average, model, decay=0.75)

    assert torch.allclose(average.weight, torch.full((2,), 0.25))
    assert torch.allclose(average.running_mean, torch.full((2,), 0.5))  # statistics too
    assert average.num_batches_tracked.item() == 7  # counters are copied, not averaged
    assert torch.allclose(model.weight, torch.ones(2))  # the model is left as it was


def test_decay_zero_keeps_exactly_the_last_step():
    average, model = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    update_average(average, model, decay=0.0)
    assert torch.equal(average.weight, model.weight)
    assert torch.equal(average.bias, model.bias)
