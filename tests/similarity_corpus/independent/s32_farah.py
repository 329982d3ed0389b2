def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    y_pred = self.forward(x)
    dloss_dw1 = np.sum(2 * (y_true - y_pred) * self.w2 * x) / len(x)
    dloss_dw2 = np.sum(2 * (y_true - y_pred) * self.w1 * x) / len(x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No: with big learning rates the loss oscillated and then increased a lot.\n"
    "Both gradients are zero, nothing changes.",
]
