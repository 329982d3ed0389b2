"""Neuromatch's formula prod(w) / w_k: right, except when a weight is 0 (0/0 = nan)."""


def forward(self, x):
    y = np.prod(self.w) * x


def loss(self, y_t, y_p):
    mse = ((y_t - y_p) ** 2).mean() / 2


def dloss_dw(self, x, y_t):
    error = y_t - np.prod(self.w) * x
    dloss_dw = -np.prod(self.w) * (x * error).mean() / self.w
