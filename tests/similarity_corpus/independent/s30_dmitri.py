def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    y_pred = self.w1 * self.w2 * x
    dloss_dw1 = np.mean(2 * (y_pred - y_true) * self.w2 * x)
    dloss_dw2 = np.mean(2 * (y_pred - y_true) * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No. Learning is faster for larger learning rates only while gradient descent stays stable; too large "
    "learning rates overshoot the minimum and the loss goes up.\n"
    "It stays at zero. Every gradient has the other weight as a factor.",
]
