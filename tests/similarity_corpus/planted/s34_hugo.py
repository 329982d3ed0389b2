COPY_OF = "s12_lucia"


def forward(self, x):
    k = self.w1 * self.w2
    y = k * x
    return y


def dloss_dw(self, x, y_true):
    k = self.w1 * self.w2
    out = k * x
    g = 2 * (out - y_true)
    # gradient with respect to the product k
    gk = np.mean(g * x)
    dloss_dw2 = gk * self.w1
    dloss_dw1 = gk * self.w2
    return dloss_dw1, dloss_dw2


WRITTEN_ANSWERS = [
    "The network only depends on the product w1*w2, so as a function of that product the loss is a "
    "parabola. With a larger learning rate we go down the parabola in bigger steps, which is quicker until "
    "one step jumps over the bottom to a point higher than the starting one. After that every step makes "
    "it worse.\n\n"
    "From w1 = w2 = 0, the gradient with respect to the product is nonzero, but it gets multiplied by w2 "
    "(for w1) and by w1 (for w2), and both are zero. The weights are therefore frozen.",
]
