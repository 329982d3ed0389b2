def forward(self, x):
    y = self.w2 * self.w1 * x
    return y


def dloss_dw(self, x, y_true):
    loss_term = y_true - self.w2 * self.w1 * x
    dloss_dw1 = np.mean(-2 * loss_term * x) * self.w2
    dloss_dw2 = np.mean(-2 * loss_term * x) * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "1. No, larger is only better while the steps stay small compared to the width of the loss valley; then "
    "training overshoots.\n2. Stuck forever: zero gradients.",
]
