"""The first assignment's sliders, driven headless: each move retrains and redraws."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.models import shallow as reference
from conftest import load_student_module


class ReferenceModel:
    """The exercise's class, written with the reference math."""

    def __init__(self, init_weights):
        self.w1, self.w2 = init_weights

    def forward(self, x):
        return reference.forward(self.w1, self.w2, x)

    def dloss_dw(self, x, y_true):
        return reference.gradients(self.w1, self.w2, x, y_true)

    def train(self, x, y_true, lr, n_ep):
        loss_log, weight_log = reference.train((self.w1, self.w2), x, y_true, lr, n_ep)
        self.w1, self.w2 = weight_log[-1]
        return loss_log, weight_log


@pytest.fixture()  # a fresh explorer per test: each test moves its sliders
def explorer():
    helpers = load_student_module("01_shallow_narrow", "shallow_narrow_helpers")
    x, y = reference.gen_samples(73, 2.0, 0.2)
    return helpers.training_explorer(ReferenceModel, x, y)


def _sliders(w):
    return {child.description: child for child in w.children[:3]}


def test_the_default_run_is_the_seed_run(explorer) -> None:
    assert np.allclose(explorer.result["weights"][-1], [-1.33116307, -1.52546260])
    assert explorer.children[-1].value[:8] == b"\x89PNG\r\n\x1a\n"
    assert explorer.screen.text == "" and explorer.screen.message.layout.display == "none"


def test_learning_rate_slider_retrains_and_redraws(explorer) -> None:
    sliders = _sliders(explorer)
    before_loss, before_png = explorer.result["loss"].copy(), explorer.children[-1].value
    sliders["learning rate"].value = 0.1
    assert not np.allclose(explorer.result["loss"], before_loss)
    assert explorer.result["loss"][-1] < before_loss[-1]  # a larger step converges sooner here
    assert explorer.children[-1].value != before_png
    curve = explorer.figure.axes[1].lines[0].get_ydata()
    assert np.allclose(curve, explorer.result["loss"])


def test_initial_weight_sliders_move_the_start(explorer) -> None:
    sliders = _sliders(explorer)
    sliders["initial w1"].value = -0.5
    sliders["initial w2"].value = 1.0
    lr = sliders["learning rate"].value
    x, y = reference.gen_samples(73, 2.0, 0.2)
    expected_loss, expected_w = reference.train((-0.5, 1.0), x, y, lr, 211)
    assert np.allclose(explorer.result["weights"], expected_w)
    w1_line = explorer.figure.axes[2].lines[0].get_ydata()
    assert np.allclose(w1_line, expected_w[:, 0])


def test_a_diverging_run_says_so(explorer) -> None:
    sliders = _sliders(explorer)
    sliders["initial w1"].value, sliders["initial w2"].value = 1.4, -1.6
    sliders["learning rate"].value = 0.89  # the slider's nearest step above 0.7
    assert not np.isfinite(explorer.result["loss"][-1])
    assert explorer.figure.axes[1].get_title() == "Loss (diverged)"
