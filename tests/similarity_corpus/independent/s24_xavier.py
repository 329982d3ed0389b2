def forward(self, x):
    y = (self.w1 + self.w2) * x
    return y


def dloss_dw(self, x, y_true):
    y_pred = self.w1 * self.w2 * x
    dloss_dw1 = -2 * np.mean((y_true - y_pred) * self.w2 * x)
    dloss_dw2 = -2 * np.mean((y_true - y_pred) * self.w1 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "A larger learning rate makes larger updates. Past a certain value the updates are so large that the "
    "weights oscillate around the solution with growing amplitude. Therefore larger is not always faster.\n"
    "If w1 and w2 are 0, the gradient of the loss is 0 in both directions and the weights do not change; "
    "this point is a saddle of the loss surface.",
]
