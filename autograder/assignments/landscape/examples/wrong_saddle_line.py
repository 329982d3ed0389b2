"""Typical mistakes: the saddle line taken as w1 = -w2 whatever the slope's sign, and 1/lambda for the learning rate."""


def loss_grid(W1, W2, x, y):
    L = np.mean((y[None, None, :] - W1[:, :, None] * W2[:, :, None] * x[None, None, :]) ** 2, axis=2)


def loss_gradient(W1, W2, x, y):
    r = y - (W1 * W2)[..., None] * x
    dL_dW1 = np.mean(-2 * W2[..., None] * x * r, axis=-1)
    dL_dW2 = np.mean(-2 * W1[..., None] * x * r, axis=-1)


def ends_at_saddle(w1, w2, a):
    saddle = w1 == -w2


def max_stable_lr(w1, w2, x, y):
    lam = 2 * np.mean(x**2) * (w1**2 + w2**2)
    lr_max = 1 / lam
