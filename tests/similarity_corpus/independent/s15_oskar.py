def forward(self, x):
    w_total = self.w1 * self.w2
    return w_total * x


def dloss_dw(self, x, y_true):
    w_total = self.w1 * self.w2
    errors = w_total * x - y_true
    grad_w_total = 2 * np.dot(errors, x) / len(errors)
    dloss_dw1, dloss_dw2 = grad_w_total * self.w2, grad_w_total * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No. I plotted the loss for several values: 0.02 needed ~150 epochs, 0.2 about 15, 0.45 about 8, but "
    "0.65 oscillated for a long time and 0.85 diverged. So there is a sweet spot and going beyond it is "
    "counterproductive.\n\n"
    "Nothing moves from (0, 0). The gradient of the loss with respect to w1 is proportional to w2 and vice "
    "versa. It is an unstable equilibrium: any small nonzero init escapes it.",
]
