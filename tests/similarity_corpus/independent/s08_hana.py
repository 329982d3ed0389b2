def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    # gradient of the mean squared error
    pred = self.w1 * self.w2 * x
    dloss_dw1 = np.mean(2 * (y_true - pred) * self.w2 * x)
    dloss_dw2 = np.mean(2 * (y_true - pred) * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No they don't. I moved the slider for the learning rate and at the beginning the curve got steeper but "
    "then suddenly it went up instead of down.\n\n"
    "Both weights zero: the loss curve is flat, nothing is learned, because the product rule gives a zero "
    "gradient for both.",
]
