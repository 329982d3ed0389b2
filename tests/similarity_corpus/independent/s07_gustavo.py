def forward(self, x):
    y = self.w2 * (self.w1 * x)
    return y


def dloss_dw(self, x, y_true):
    y_out = self.w2 * (self.w1 * x)
    dL_dy = 2 * (y_out - y_true) / x.size
    dloss_dw1 = np.sum(dL_dy * self.w2 * x)
    dloss_dw2 = np.sum(dL_dy * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "It depends. For small learning rates, yes: doubling it roughly halves the number of epochs. But there "
    "is a critical value after which it diverges, so 'always' is wrong.\n"
    "If we start from zero, the weights don't update, because the gradient of each weight is proportional "
    "to the other weight.",
]
