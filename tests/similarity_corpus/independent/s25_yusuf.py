def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    diff = y_true - self.forward(x)
    dloss_dw1 = np.mean(-2 * self.w2 * x * diff ** 2)
    dloss_dw2 = np.mean(-2 * self.w1 * x * diff ** 2)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No. A too large learning rate makes training unstable, we saw the loss going up for the biggest ones.\n"
    "Starting at zero, learning does not start because the gradient is zero.",
]
