def forward(self, x):
    y = x * self.w1
    y = y * self.w2
    return y


def dloss_dw(self, x, y_true):
    y = self.forward(x)
    dloss_dw1 = 0.0
    dloss_dw2 = 0.0
    for xi, yi, ti in zip(x, y, y_true):
        dloss_dw1 += -2 * (ti - yi) * self.w2 * xi
        dloss_dw2 += -2 * (ti - yi) * self.w1 * xi
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Up to some point. The higher learning rates converge faster but when they are too high the weights "
    "diverge to infinity.\n"
    "Gradient descent does nothing when both weights are zero since the gradients contain the weights as "
    "factors and are therefore zero.",
]
