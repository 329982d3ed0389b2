def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    e = self.w1 * self.w2 * x - y_true
    dloss_dw1 = 2 * np.sum(e * x * self.w2)
    dloss_dw2 = 2 * np.sum(e * x * self.w1)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "no. bigger lr = bigger steps, and if the step is too big you go past the minimum and diverge.\n"
    "0,0 -> gradient is 0 -> no update. stuck.",
]
