def forward(self, x):
    # the network is two multiplications in a row
    hidden = self.w1 * x
    y = self.w2 * hidden
    return y


def dloss_dw(self, x, y_true):
    hidden = self.w1 * x
    y_hat = self.w2 * hidden
    # derivative of (y - w2 w1 x)^2 using the chain rule
    d_out = -2 * (y_true - y_hat)
    dloss_dw2 = np.mean(d_out * hidden)
    dloss_dw1 = np.mean(d_out * self.w2 * x)
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "Larger learning rates learn faster only while they are small enough. I tried 0.05, 0.3 and 0.9: 0.3 "
    "converged in a few epochs, 0.05 was slow, and 0.9 oscillated and then blew up.\n\n"
    "Starting at the origin the network is stuck. Backprop multiplies by the weight of the other layer, "
    "which is zero, so no signal gets through and the weights never change.",
]
