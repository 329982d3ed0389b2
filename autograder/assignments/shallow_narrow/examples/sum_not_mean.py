"""A typical mistake: the gradient is summed over the samples instead of averaged."""


def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    dloss_dw1 = -(2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).sum()
    dloss_dw2 = -(2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).sum()
    return dloss_dw1, dloss_dw2
