def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    n_samples = len(y_true)
    y_pred = self.w1 * self.w2 * x
    dloss_dw1 = sum(-2 * (y_true - y_pred) * self.w2 * x) / n_samples
    dloss_dw2 = sum(-2 * (y_true - y_pred) * self.w1 * x) / n_samples
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "It learns faster with larger learning rates only in a range. I saw the loss decrease very fast for "
    "0.4 but with 1.0 it increased at every epoch, it diverges.\n"
    "From the zero initialisation the weights are not updated at all, the partial derivatives are zero. "
    "Symmetry between the two weights means neither can move first.",
]
