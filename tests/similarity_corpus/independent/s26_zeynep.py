def forward(self, x):
    y = x * self.w1 * self.w2
    return y


def dloss_dw(self, x, y_true):
    residual_mean = np.mean(y_true - x * self.w1 * self.w2)
    x_mean = np.mean(x)
    dloss_dw1 = -2 * self.w2 * x_mean * residual_mean
    dloss_dw2 = -2 * self.w1 * x_mean * residual_mean
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "With a moderately larger learning rate the loss curve drops faster, but for the largest settings of "
    "the slider it jumps around and finally increases without bound, so the answer is no.\n\n"
    "From w1 = w2 = 0 the model never learns: the predictions are all zero and so are the gradients of "
    "both weights, which depend on the other weight's value.",
]
