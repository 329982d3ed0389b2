"""A typical mistake: the factor 2 from the derivative of the square is missing."""


def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    dloss_dw1 = -(self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()
    dloss_dw2 = -(self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()
    return dloss_dw1, dloss_dw2
