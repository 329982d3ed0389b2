"""Also correct, written differently: Python loops over the grid and a finite-difference Hessian."""


def loss_grid(W1, W2, x, y):
    L = np.zeros(W1.shape)
    for i in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            L[i, j] = np.mean((y - W1[i, j] * W2[i, j] * x) ** 2)


def loss_gradient(W1, W2, x, y):
    dL_dW1 = np.zeros(W1.shape)
    dL_dW2 = np.zeros(W1.shape)
    for i in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            r = y - W1[i, j] * W2[i, j] * x
            dL_dW1[i, j] = np.mean(-2 * W2[i, j] * x * r)
            dL_dW2[i, j] = np.mean(-2 * W1[i, j] * x * r)


def ends_at_saddle(w1, w2, a):
    saddle = abs(w1 + w2) < 1e-12 if a > 0 else abs(w1 - w2) < 1e-12


def max_stable_lr(w1, w2, x, y):
    h = 1e-5
    hessian = np.zeros((2, 2))
    for k in range(2):
        plus, minus = [w1, w2], [w1, w2]
        plus[k] += h
        minus[k] -= h
        gp = loss_gradient(np.array([[plus[0]]]), np.array([[plus[1]]]), x, y)
        gm = loss_gradient(np.array([[minus[0]]]), np.array([[minus[1]]]), x, y)
        hessian[:, k] = [(gp[0][0, 0] - gm[0][0, 0]) / (2 * h), (gp[1][0, 0] - gm[1][0, 0]) / (2 * h)]
    hessian = (hessian + hessian.T) / 2
    lr_max = 2 / max(np.linalg.eigvalsh(hessian))
