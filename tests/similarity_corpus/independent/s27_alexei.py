def forward(self, x):
    prediction = self.w1 * self.w2 * x
    return prediction


def dloss_dw(self, x, y_true):
    prediction = self.forward(x)
    dL_dpred = 2 * (prediction - y_true)
    dloss_dw1 = (dL_dpred * self.w2 * x).mean()
    dloss_dw2 = (dL_dpred * self.w1 * x).mean()
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "There is a threshold. Below it, a larger learning rate converges in fewer epochs; above it the "
    "iterates overshoot and the loss increases. I estimated the threshold around 0.7 from the explorer.\n"
    "(0,0) has zero gradient, so gradient descent stays there. It is not a minimum though, only a saddle.",
]
