def forward(self, x):
    scale = self.w1 * self.w2
    y = x * scale
    return y


def dloss_dw(self, x, y_true):
    scale = self.w1 * self.w2
    mismatch = y_true - x * scale
    dloss_dw1 = -2 * self.w2 * np.mean(x * mismatch)
    dloss_dw2 = -2 * self.w1 * np.mean(x * mismatch)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Increasing the learning rate helps only until the update overshoots. I found 0.35 ok and 0.75 "
    "unstable, with the weights oscillating between positive and negative values.\n"
    "With zero weights the gradient is zero, the update does nothing, so the network stays at its initial "
    "state. This is why we initialise weights randomly.",
]
