def forward(self, x):
    return x * self.w1 * self.w2


def dloss_dw(self, x, y_true):
    m = x.size
    yp = x * self.w1 * self.w2
    dloss_dw1 = (2 / m) * np.sum((yp - y_true) * x) * self.w2
    dloss_dw2 = (2 / m) * np.sum((yp - y_true) * x) * self.w1
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "A larger learning rate takes bigger jumps. That is good while the jumps land closer to the minimum; "
    "when a jump lands on the other side further away than it started, the loss grows and training fails. "
    "So no, not always.\n"
    "Both weights at zero means the product w1*w2 is zero and so are both partial derivatives: this is a "
    "saddle point and plain gradient descent stays there forever.",
]
