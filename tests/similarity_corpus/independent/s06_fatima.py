def forward(self, x):
    y = np.multiply(self.w1 * self.w2, x)
    return y


def dloss_dw(self, x, y_true):
    prediction = self.forward(x)
    common = -2.0 * x * (y_true - prediction)
    dloss_dw1 = np.mean(common * self.w2)
    dloss_dw2 = np.mean(common * self.w1)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Up to a learning rate of roughly 0.4 increasing it makes training faster. Past that the updates "
    "overshoot the minimum; the trajectory zig-zags and for the largest values it leaves the plot.\n"
    "With both weights 0 the model predicts 0 for every x and the gradients are 0 too, because dL/dw1 "
    "contains w2 and dL/dw2 contains w1. Gradient descent is stuck at the saddle.",
]
