def forward(self, x):
    y = x * self.w2 * self.w1
    return y


def dloss_dw(self, x, y_true):
    N = x.shape[0]
    r = y_true - x * self.w2 * self.w1
    dloss_dw1 = -2.0 / N * (self.w2 * x) @ r
    dloss_dw2 = -2.0 / N * (self.w1 * x) @ r
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Not always: the loss landscape has a curvature, and gradient descent is stable only if the learning "
    "rate is below 2 divided by the curvature. Above that it overshoots. In the explorer, lr = 0.25 gave the "
    "fastest convergence; 0.7 already oscillated.\n"
    "(0, 0) is a critical point (a saddle) of the loss: the gradient is exactly zero there, so the "
    "updates are zero and the weights never leave it. Any tiny perturbation would grow though.",
]
