def forward(self, x):
    y = self.w1 * (self.w2 * x)
    return y


def dloss_dw(self, x, y_true):
    yhat = self.w1 * (self.w2 * x)
    dloss_dw1 = -2 * np.mean(x * self.w2 * (y_true - yhat))
    dloss_dw2 = -2 * np.mean(x * self.w1 * (y_true - yhat))
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Larger learning rates do not always learn faster. There is an optimal value; beyond it the gradient "
    "steps are too long and the loss increases (divergence). Below it the convergence is monotone but "
    "slower.\n"
    "At the initialisation w1 = w2 = 0 the derivative of the loss with respect to each weight is zero, so "
    "the gradient descent update leaves the weights unchanged: the network cannot learn from this symmetric "
    "start.",
]
