import numpy as np
from benchopt import BaseDataset


class Dataset(BaseDataset):
    """Two Gaussian point clouds in 2-D with uniform weights, squared Euclidean cost."""
    name = "point-clouds"
    parameters = {"n": [500, 2000]}
    test_parameters = {"n": [40]}

    def get_data(self):
        rng = np.random.default_rng(self.get_seed(use_repetition=True))
        x = rng.standard_normal((self.n, 2))
        y = rng.standard_normal((self.n, 2)) * 0.7 + np.array([1.0, 0.5])
        C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        a = np.full(self.n, 1.0 / self.n)
        return dict(a=a, b=a.copy(), C=C)
