def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    err = self.w1 * self.w2 * x - y_true
    dloss_dw1 = np.mean(err * self.w2 * x)
    dloss_dw2 = np.mean(err * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "I don't think so, a learning rate that is too high can make the model skip over the minimum. The "
    "curve with lr 0.8 went up.\n"
    "The model won't train because the gradients at zero are zero.",
]
