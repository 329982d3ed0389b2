def forward(self, x):
    return self.w1 * self.w2 * x


def dloss_dw(self, x, y_true):
    residual = y_true - self.w1 * self.w2 * x
    dloss_dw1 = -2 * np.mean(self.w2 * x * residual)
    dloss_dw2 = -2 * np.mean(self.w1 * x * residual)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No! A bigger learning rate is faster only up to a point. When it is too big the steps overshoot and "
    "the training diverges (I saw the loss going to infinity with the slider at the right end).\n"
    "At w1=w2=0 nothing happens: this point is a saddle, both derivatives are 0 there.",
]
