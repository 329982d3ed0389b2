def forward(self, x):
    y = self.w1 * x * self.w2
    return y


def dloss_dw(self, x, y_true):
    y_est = self.w1 * x * self.w2
    delta = y_est - y_true
    dloss_dw1 = np.sum(2 * delta * x * self.w2) / len(x)
    dloss_dw2 = np.sum(2 * delta * x * self.w1) / len(x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "1) I would say no. When I set eta high the weights shoot past the solution, come back, shoot past "
    "again, and the amplitude grows. A moderate eta needed the fewest epochs.\n"
    "2) The weights remain (0, 0). Since the output is w1*w2*x, changing only one weight by a small amount "
    "does not change the output when the other is zero, so there is no gradient.",
]
