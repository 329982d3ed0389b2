"""How fast does a slider answer?  One step = retrain + redraw, as the widget callback runs it.

For every interactive figure of the course, this moves one slider through a range of values and
times each step: setting the slider's value runs the callback synchronously (train, update the
lines, render the picture to PNG).  It compares that with the same figure re-plotted from scratch
at every step, the way Neuromatch's helpers do it (new pyplot figure, every artist drawn again,
rendered the way the notebook's inline backend renders it), on the same training runs.

Run:  .venv/bin/python benchmarks/sliders.py   (prints the median step of each, and the ratio)
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS, TARGET_RATIO = 40.0, 4.0


def load_module(assignment: str, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "source" / assignment / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def solution_namespace(assignment: str, notebook: str) -> dict[str, Any]:
    """The instructor notebook's definitions (functions and classes), without running its plots."""
    namespace: dict[str, Any] = {"__name__": "solution"}
    exec("import numpy as np", namespace)
    for cell in nbformat.read(ROOT / "source" / assignment / notebook, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(("def ", "class ")):
            exec(cell.source, namespace)
    return namespace


def inline_png(fig: Any) -> bytes:
    """Render a figure the way the notebook's inline backend does (PNG, tight bounding box)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=80)
    return buffer.getvalue()


def median_ms(step: Callable[[Any], Any], values: list[Any], repeat: int = 2) -> float:
    times = []
    with contextlib.redirect_stdout(io.StringIO()):  # headless widgets print clear-output codes
        step(values[-1])  # warm-up: first draw, caches
        for _ in range(repeat):
            for value in values:
                start = time.perf_counter()
                step(value)
                times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


# -- 01: the shallow narrow net's training explorer ----------------------------------------------------


def bench_01() -> list[tuple[str, Callable, Callable, list]]:
    helpers = load_module("01_shallow_narrow", "shallow_narrow_helpers")
    model = solution_namespace("01_shallow_narrow", "shallow_narrow.ipynb")["ShallowNarrowExercise"]
    np.random.seed(2021)
    x, y = helpers.gen_samples(73, 2.0, 0.2)
    x_eval = np.linspace(0, 1, 37)
    with contextlib.redirect_stdout(io.StringIO()):  # headless, display() prints the figure's repr
        widget = helpers.training_explorer(model, x, y)
    lr_slider = widget.children[0]

    def ours(lr: float) -> None:
        lr_slider.value = lr  # retrain, update the lines and encode the PNG the widget shows

    def nma(lr: float) -> None:
        m = model([1.4, -1.6])
        losses, weights = m.train(x, y, lr, 211)
        fig, axes = plt.subplots(1, 3, figsize=(12, 4))
        helpers._draw_panels(axes, x, y, x_eval, m.forward(x_eval), losses, weights)
        fig.tight_layout()
        inline_png(fig)
        plt.close(fig)

    return [("01 training_explorer (lr)", ours, nma, list(np.geomspace(0.005, 0.3, 12)))]


# -- 02: the landscape explorer ------------------------------------------------------------------------


def bench_02() -> list[tuple[str, Callable, Callable, list]]:
    helpers = load_module("02_learning_landscape", "landscape_helpers")
    ns = solution_namespace("02_learning_landscape", "learning_landscape.ipynb")
    loss_grid, loss_gradient = ns["loss_grid"], ns["loss_gradient"]
    x, y = helpers.gen_samples(10, 1.0, 0.0)
    widget = helpers.landscape_explorer(loss_grid, loss_gradient, x, y)
    lr_slider, w1_slider = widget.children[0], widget.children[1]

    def nma(w1: float, lr: float = 0.15) -> None:
        path = helpers.descend(loss_gradient, [(w1, 1.7)], x, y, lr, 60)[0]
        losses = helpers._path_losses(loss_grid, path, x, y)
        fig, (ax_map, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.6))
        helpers.draw_landscape(ax_map, loss_grid, loss_gradient, x, y)
        ax_map.plot(path[:, 0], path[:, 1], color="white", marker=".")
        ax_map.plot(*path[0], "o", color="blue")
        ax_map.plot(*path[-1], "X", color="red")
        ax_map.legend(loc="lower left", fontsize=7)
        ax_loss.semilogy(losses, color="red")
        ax_loss.set(xlabel="epochs", ylabel="mean squared error", title=f"Loss (final {losses[-1]:.3g})")
        fig.tight_layout()
        inline_png(fig)
        plt.close(fig)

    def ours_w1(w1: float) -> None:
        w1_slider.value = w1

    def ours_lr(lr: float) -> None:
        lr_slider.value = lr

    w1_values = list(np.round(np.linspace(-1.8, 1.8, 12), 2))
    lr_values = list(np.geomspace(0.02, 1.0, 12))
    return [
        ("02 landscape_explorer (initial w1)", ours_w1, nma, w1_values),
        ("02 landscape_explorer (lr)", ours_lr, lambda lr: nma(-1.8, lr), lr_values),
    ]


# -- 03: depth, learning rate, initialization, the game ---------------------------------------------------


def bench_03() -> list[tuple[str, Callable, Callable, list]]:
    helpers = load_module("03_depth_and_init", "depth_helpers")
    model = solution_namespace("03_depth_and_init", "depth_and_init.ipynb")["DeepNarrowLNN"]
    np.random.seed(2021)
    x, y = helpers.gen_samples(100, 2.0, 0.1)
    best = float(np.mean(x * y) / np.mean(x * x))

    def nma_plot(depth: int, lr: float, init: float, n_ep: int) -> None:
        losses, weights = helpers.train_network(model, depth, lr, init, x, y, n_ep)
        fig, (ax_loss, ax_slope) = plt.subplots(1, 2, figsize=(11, 4))
        ax_loss.semilogy(losses, color="red")
        ax_loss.axhline(helpers.THRESHOLD, color="gray", linestyle=":")
        ax_loss.set(xlim=(0, n_ep), xlabel="epochs", ylabel="training loss",
                    title=f"depth {depth}, lr {lr:.3g}: {helpers._status(losses, n_ep)}")
        ax_slope.plot(np.prod(weights, axis=1), color="purple")
        ax_slope.axhline(best, color="gray", linestyle="--")
        ax_slope.set(xlim=(0, n_ep), xlabel="epochs", ylabel="the network's slope")
        fig.tight_layout()
        inline_png(fig)
        plt.close(fig)

    depth_w = helpers.depth_explorer(model, x, y)
    lr_w = helpers.lr_explorer(model, x, y)
    init_w = helpers.init_explorer(model, x, y)
    game = helpers.lr_depth_game(model, x, y)
    grid = game.grid

    def set_value(slider: Any) -> Callable[[Any], None]:
        def step(value: Any) -> None:
            slider.value = value

        return step

    def nma_game(lr: float) -> None:
        losses, _ = helpers.train_network(model, 30, lr, 0.9, x, y, 600)
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 4))
        a.semilogy(losses, color="red")
        a.axhline(helpers.THRESHOLD, color="gray", linestyle=":")
        a.set(xlabel="epochs", ylabel="training loss", title=f"depth 30, lr {lr:.4g}: {helpers._status(losses, 600)}")
        b.plot(grid["depths"], grid["epoch"], color="gray", marker="o")
        b.set(xlabel="depth", ylabel="epochs to converge")
        c.semilogy(grid["depths"], grid["lr"], color="gray", marker="o")
        c.set(xlabel="depth", ylabel="learning rate")
        fig.tight_layout()
        inline_png(fig)
        plt.close(fig)

    game.children[0].value = 30
    return [
        ("03 depth_explorer (depth)", set_value(depth_w.children[0]), lambda d: nma_plot(d, 0.01, 0.9, 600),
         [1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]),
        ("03 lr_explorer (lr, depth 50)", set_value(lr_w.children[0]), lambda lr: nma_plot(50, lr, 0.9, 600),
         list(np.round(np.arange(0.005, 0.0451, 0.005), 3))),
        ("03 init_explorer (init)", set_value(init_w.children[0]), lambda w: nma_plot(15, 0.02, w, 250),
         list(np.round(np.arange(0.7, 1.051, 0.05), 2))),
        ("03 lr_depth_game (lr, depth 30)", set_value(game.children[1]), nma_game,
         list(np.geomspace(0.005, 0.1, 12))),
    ]


def main() -> int:
    rows = []
    for bench in (bench_01, bench_02, bench_03):
        with contextlib.redirect_stdout(io.StringIO()):
            cases = bench()
        for name, ours, nma, values in cases:
            rows.append((name, median_ms(ours, values), median_ms(nma, values, repeat=1)))
    print(f"{'interactive (slider)':40s} {'ours ms':>8s} {'re-plot ms':>11s} {'ratio':>6s}")
    ok = True
    for name, fast, slow in rows:
        meets = fast < TARGET_MS and slow / fast >= TARGET_RATIO
        ok &= meets
        print(f"{name:40s} {fast:8.1f} {slow:11.1f} {slow / fast:6.1f}{'' if meets else '   <- misses the target'}")
    print(f"target: median step under {TARGET_MS:g} ms and at least {TARGET_RATIO:g}x faster than re-plotting")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
