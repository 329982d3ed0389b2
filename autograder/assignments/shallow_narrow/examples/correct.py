"""A correct submission: the formulas as derived in the notebook."""


def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    residual = y_true - self.w1 * self.w2 * x
    dloss_dw1 = -(2 * self.w2 * x * residual).mean()
    dloss_dw2 = -(2 * self.w1 * x * residual).mean()
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "1. No. Up to about 0.3 a larger rate gets there in fewer epochs, but from about 0.5 the weights zigzag "
    "around the minimum, and above about 0.7 every step overshoots more and the loss blows up.\n"
    "2. Nothing moves: each weight's gradient is scaled by the other weight, so at (0, 0) both gradients are 0.",
]
