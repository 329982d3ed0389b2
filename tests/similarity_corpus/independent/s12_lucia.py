def forward(self, x):
    slope = self.w1 * self.w2
    y = slope * x
    return y


def dloss_dw(self, x, y_true):
    slope = self.w1 * self.w2
    y_pred = slope * x
    mse_grad = 2 * (y_pred - y_true)  # dL/dy for each sample
    grad_slope = np.mean(mse_grad * x)  # dL/d(w1 w2)
    dloss_dw1 = grad_slope * self.w2  # chain rule through the product
    dloss_dw2 = grad_slope * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "The model only cares about the product w1*w2, so the loss as a function of that product is a parabola. "
    "A larger learning rate walks down the parabola in bigger steps, which is faster until a step jumps over "
    "the bottom to a point higher than where it started. From then on each step makes things worse.\n\n"
    "Starting at w1 = w2 = 0, the gradient with respect to the product is not zero, but it is multiplied by "
    "w2 (for w1) and by w1 (for w2), both zero. So the weights are frozen in place.",
]
