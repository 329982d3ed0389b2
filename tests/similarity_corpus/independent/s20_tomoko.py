def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    y = self.forward(x)
    dloss_dw1 = np.mean(-2 * x * self.w2 * (y_true - y))
    dloss_dw2 = np.mean(-2 * x * self.w1 * (y_true - y))
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Larger learning rates are faster at first, but if it is too large the optimization diverges. "
    "So there is a trade-off between speed and stability.\n"
    "If we initialize at 0, then the gradient is 0 and the weights don't change: the model is stuck at a "
    "saddle point.",
]
