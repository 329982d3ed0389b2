COPY_OF = "s19_samir"


def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    r = y_true - self.w1 * self.w2 * x  # residuals
    dloss_dw2 = -2 * np.mean(r * self.w2 * x)
    dloss_dw1 = -2 * np.mean(r * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "In my experiments a learning rate of 0.5 was quicker than 0.1, but 0.9 was a disaster: the weights "
    "went to huge values. Bigger is therefore not always better; the curvature of the loss limits the step "
    "size.\n"
    "Starting from zero: the output of the network is always zero and the gradients vanish, the two "
    "weights keep each other at zero. The loss stays at the mean of y squared.",
]
