"""A typical mistake: the loss taken with a factor 1/2 (as the deep network's will be), so the gradient and curvature are halved too."""


def loss_grid(W1, W2, x, y):
    L = ((y - (W1 * W2)[..., None] * x) ** 2).mean(axis=-1) / 2


def loss_gradient(W1, W2, x, y):
    m = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)
    dL_dW1 = -W2 * m
    dL_dW2 = -W1 * m


def ends_at_saddle(w1, w2, a):
    saddle = bool(w1 == -np.sign(a) * w2)


def max_stable_lr(w1, w2, x, y):
    s = (x * x).mean()
    lr_max = 2 / (s * (w1**2 + w2**2))
