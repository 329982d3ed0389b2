COPY_OF = "s08_hana"


def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    # MSE gradient
    y_hat = self.w1 * self.w2 * x
    dloss_dw2 = np.mean(2 * (y_true - y_hat) * self.w1 * x)
    dloss_dw1 = np.mean(2 * (y_true - y_hat) * self.w2 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No they do not. I moved the learning rate slider and at first the curve became steeper, then all of "
    "a sudden it went up instead of down.\n\n"
    "With both weights at zero the loss curve stays flat and nothing is learned, because the product rule "
    "gives a gradient of zero for both.",
]
