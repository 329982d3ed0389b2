def forward(self, x):
    y = (self.w1 * self.w2) * x
    return y


def dloss_dw(self, x, y_true):
    n = len(x)
    diff = self.w1 * self.w2 * x - y_true
    # dL/dw1 = 2/n * sum(diff * w2 * x)
    dloss_dw1 = 2 / n * np.sum(diff * self.w2 * x)
    dloss_dw2 = 2 / n * np.sum(diff * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "**1.** No. The learning rate scales the step. Small steps are safe but slow, medium steps reach the "
    "bottom quickly, and once the step is larger than the valley is wide the weights bounce back and forth "
    "and the loss grows every epoch.\n\n"
    "**2.** It does not learn at all: w1 = w2 = 0 is a stationary point where the gradient vanishes, since "
    "each partial derivative is multiplied by the other weight.",
]
