"""Typical mistakes: the forward pass sums the weights, and the gradient forgets the input x."""


def forward(self, x):
    y = np.sum(self.w) * x


def loss(self, y_t, y_p):
    mse = ((y_t - y_p) ** 2).mean() / 2


def dloss_dw(self, x, y_t):
    error = y_t - np.prod(self.w) * x
    dloss_dw = np.zeros(len(self.w))
    for k in range(len(self.w)):
        others = 1.0
        for j in range(len(self.w)):
            if j != k:
                others *= self.w[j]
        dloss_dw[k] = -error.mean() * others
