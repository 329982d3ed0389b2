"""A typical mistake: the forward pass adds the weights; the gradient is right."""


def forward(self, x):
    y = (self.w1 + self.w2) * x
    return y


def dloss_dw(self, x, y_true):
    dloss_dw1 = -(2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()
    dloss_dw2 = -(2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()
    return dloss_dw1, dloss_dw2
