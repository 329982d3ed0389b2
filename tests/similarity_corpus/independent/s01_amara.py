def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    y_pred = self.forward(x)
    error = y_true - y_pred
    dloss_dw1 = np.mean(-2 * self.w2 * x * error)
    dloss_dw2 = np.mean(-2 * self.w1 * x * error)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "1. Not always. With lr = 0.1 or 0.2 the loss drops faster than with 0.01, but around 0.6 the weights "
    "start to jump from one side of the minimum to the other and beyond about 0.8 the loss explodes.\n\n"
    "2. The weights stay at zero forever. The gradient for w1 has w2 in it and the gradient for w2 has w1 "
    "in it, so both are zero and gradient descent never moves.",
]
