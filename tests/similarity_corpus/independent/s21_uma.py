def forward(self, x):
    y_hat = self.w1 * self.w2 * x
    return y_hat


def dloss_dw(self, x, y_true):
    y_hat = self.forward(x)
    gap = y_hat - y_true
    dloss_dw1 = -np.mean(2 * gap * self.w2 * x)
    dloss_dw2 = -np.mean(2 * gap * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Not necessarily. With the slider I found that increasing the learning rate speeds things up, until "
    "a value where the loss starts to bounce. Very large values make it blow up.\n"
    "Nothing happens at (0,0) because the derivative with respect to w1 is multiplied by w2 = 0 and the "
    "derivative with respect to w2 by w1 = 0.",
]
