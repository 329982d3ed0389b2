def forward(self, x):
    y = np.array(x) * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    x = np.asarray(x)
    y_true = np.asarray(y_true)
    pred = x * self.w1 * self.w2
    grad_common = 2 * (pred - y_true) * x
    dloss_dw1 = float(np.mean(grad_common)) * self.w2
    dloss_dw2 = float(np.mean(grad_common)) * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Faster only up to a limit. For very large learning rates the algorithm becomes unstable: the loss "
    "curve is not decreasing anymore but jumping and eventually growing.\n"
    "If both weights start at zero, gradient descent cannot update them, because the gradient is zero "
    "there (each derivative contains the other weight as a factor).",
]
