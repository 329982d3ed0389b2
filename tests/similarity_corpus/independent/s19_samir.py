def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    # chain rule: d/dw1 (w1 w2 x) = w2 x
    resid = y_true - self.w1 * self.w2 * x
    dloss_dw1 = -2 * np.mean(resid * self.w1 * x)
    dloss_dw2 = -2 * np.mean(resid * self.w2 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "In my runs the learning rate of 0.5 was faster than 0.1, but 0.9 was a disaster, the weights went to "
    "huge values. So bigger is not always better; the curvature of the loss limits the step size.\n"
    "Zero start: the network output is always zero and the gradients vanish, the two weights keep each "
    "other at zero. The loss stays at the mean of y squared.",
]
