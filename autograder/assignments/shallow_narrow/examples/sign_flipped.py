"""A typical mistake: the minus sign of the inner derivative is lost (as in NMA's 2021 text)."""


def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    dloss_dw1 = (2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()
    dloss_dw2 = (2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()
    return dloss_dw1, dloss_dw2
