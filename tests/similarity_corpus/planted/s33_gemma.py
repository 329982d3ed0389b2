COPY_OF = "s04_dara"


def forward(self, x):
    # output of the network
    y = x * (self.w1 * self.w2)
    return y


def dloss_dw(self, x, y_true):
    num = len(x)
    d = self.w1 * self.w2 * x - y_true
    dloss_dw2 = 2 / num * np.sum(d * self.w1 * x)  # w.r.t. the second weight
    dloss_dw1 = 2 / num * np.sum(d * self.w2 * x)  # w.r.t. the first weight
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "**1.** No. The step is scaled by the learning rate. Small steps are slow but safe, medium steps get to "
    "the bottom quickly, and when the step becomes larger than the width of the valley the weights bounce "
    "back and forth and the loss increases every epoch.\n\n"
    "**2.** Nothing is learned: w1 = w2 = 0 is a stationary point where the gradient vanishes, because "
    "each partial derivative is multiplied by the other weight.",
]
