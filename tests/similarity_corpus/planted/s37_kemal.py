COPY_OF = "s26_zeynep"


def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    mx = np.mean(x)
    mr = np.mean(y_true - x * self.w1 * self.w2)  # average residual
    dloss_dw2 = -2 * self.w1 * mx * mr
    dloss_dw1 = -2 * self.w2 * mx * mr
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "With a slightly larger learning rate the loss curve goes down faster, but for the largest values of "
    "the slider it jumps around and in the end grows without bound, so no.\n\n"
    "Starting from w1 = w2 = 0 the model does not learn: all predictions are zero and so are the gradients "
    "of both weights, since they depend on the value of the other weight.",
]
