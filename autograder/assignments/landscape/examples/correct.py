"""A correct submission: vectorised grids and the analytic Hessian."""


def loss_grid(W1, W2, x, y):
    residual = y - (W1 * W2)[..., None] * x
    L = (residual**2).mean(axis=-1)


def loss_gradient(W1, W2, x, y):
    m = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)
    dL_dW1 = -2 * W2 * m
    dL_dW2 = -2 * W1 * m


def ends_at_saddle(w1, w2, a):
    saddle = bool(w1 == -np.sign(a) * w2)


def max_stable_lr(w1, w2, x, y):
    s, c, p = (x * x).mean(), (x * y).mean(), w1 * w2
    off_diagonal = 2 * (2 * p * s - c)
    hessian = np.array([[2 * s * w2**2, off_diagonal], [off_diagonal, 2 * s * w1**2]])
    lr_max = 2 / np.linalg.eigvalsh(hessian)[-1]
