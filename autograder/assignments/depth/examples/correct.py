"""A correct submission: the product of the other weights by prefix and suffix products."""


def forward(self, x):
    y = np.prod(self.w) * x


def loss(self, y_t, y_p):
    mse = np.mean((y_t - y_p) ** 2) / 2


def dloss_dw(self, x, y_t):
    error = y_t - np.prod(self.w) * x
    before = np.concatenate(([1.0], np.cumprod(self.w)[:-1]))
    after = np.concatenate((np.cumprod(self.w[::-1])[:-1][::-1], [1.0]))
    dloss_dw = -np.mean(x * error) * before * after
