"""A typical mistake: the full mean squared error (no 1/2), and its gradient with the factor 2."""


def forward(self, x):
    y = np.prod(self.w) * x


def loss(self, y_t, y_p):
    mse = ((y_t - y_p) ** 2).mean()


def dloss_dw(self, x, y_t):
    error = y_t - np.prod(self.w) * x
    others = np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])
    dloss_dw = -2 * (x * error).mean() * others
