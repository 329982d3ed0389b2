def forward(self, x):
    out = x * (self.w1 * self.w2)
    return out


def dloss_dw(self, x, y_true):
    out = self.forward(x)
    loss_grad = out - y_true
    dloss_dw1 = 2 * np.average(loss_grad * x) * self.w2
    dloss_dw2 = 2 * np.average(loss_grad * x) * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Larger rates help until about 0.5, then the loss oscillates and at 1.0 it diverges.\n"
    "From zero no learning happens: zero gradient.",
]
