def forward(self, x):
    y = self.w1 * self.w2 * x
    return y


def dloss_dw(self, x, y_true):
    y_pred = self.forward(x)
    dloss_dw1 = np.mean((y_true - y_pred) * self.w2 * x)
    dloss_dw2 = np.mean((y_true - y_pred) * self.w1 * x)
    dloss_dw1 = -dloss_dw1
    dloss_dw2 = -dloss_dw2
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "No, when the learning rate gets large the training becomes unstable. I think the reason is that we "
    "overshoot.\nAt zero the gradients are zero, so the weights never change.",
]
