def forward(self, x):
    w1, w2 = self.w1, self.w2
    y = w1 * w2 * x
    return y


def dloss_dw(self, x, y_true):
    w1, w2 = self.w1, self.w2
    err = y_true - w1 * w2 * x
    g1 = (-2 * w2 * x * err).mean()
    g2 = (-2 * w1 * x * err).mean()
    dloss_dw1, dloss_dw2 = g1, g2
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "- no, too large learning rates make the loss oscillate or diverge\n"
    "- lr around 0.3-0.5 was the fastest for me\n"
    "- at (0,0) the gradients are zero so it stays there (saddle point)",
]
