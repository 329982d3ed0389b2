"""A correct submission: the formulas as derived in the notebook."""


def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    residual = y_true - self.w1 * self.w2 * x
    dloss_dw1 = -(2 * self.w2 * x * residual).mean()
    dloss_dw2 = -(2 * self.w1 * x * residual).mean()
    return dloss_dw1, dloss_dw2
