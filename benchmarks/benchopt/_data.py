"""Data shared by the numopt benchopt benchmarks: simulated designs and the LIBSVM files of
``../shared/data/libsvm`` (read with numopt's own reader; nothing is downloaded)."""
import os
from pathlib import Path

import numpy as np

# the shared LIBSVM folder of this project (benchmarks/benchopt/<bench>/datasets -> repo/../shared)
LIBSVM_DIR = Path(os.environ.get("NUMOPT_LIBSVM_DIR",
                                 Path(__file__).resolve().parents[3] / "shared" / "data" / "libsvm"))


def simulated(n_samples, n_features, rho, seed, task):
    """A correlated Gaussian design (corr(X_i, X_j) = rho^|i-j|) and a sparse ground truth;
    ``task`` "regression" (y = X w + noise) or "classification" (y = sign(...))."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_samples, n_features))
    X = np.empty_like(z)
    X[:, 0] = z[:, 0]
    for j in range(1, n_features):  # AR(1) columns
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * z[:, j]
    w = np.zeros(n_features)
    k = max(1, n_features // 10)
    w[rng.choice(n_features, k, replace=False)] = rng.standard_normal(k)
    y = X @ w + 0.5 * rng.standard_normal(n_samples)
    return X, (np.where(y > 0, 1.0, -1.0) if task == "classification" else y)


def libsvm(name, task):
    """(X, y) of a LIBSVM file of the shared folder (scipy.sparse CSC X); labels mapped to
    {-1, +1} for classification. Raises FileNotFoundError when the folder lacks it."""
    from problems import libsvm as L

    X, y = L.load(name, data_dir=LIBSVM_DIR)
    X, y = X.tocsc(), np.asarray(y, dtype=float)
    if task == "classification":
        y = np.where(y > np.min(y), 1.0, -1.0)
    return X, y


def dataset_classes(task):
    """The benchopt Dataset classes (simulated, LIBSVM) of a benchmark with targets of ``task``."""
    from benchopt import BaseDataset

    class Simulated(BaseDataset):
        name = "simulated"
        parameters = {"n_samples, n_features": [(500, 1000), (5000, 200)], "rho": [0.0, 0.6]}
        test_parameters = {"n_samples, n_features": [(50, 20)], "rho": [0.0]}

        def get_data(self):
            X, y = simulated(self.n_samples, self.n_features, self.rho, self.get_seed(use_repetition=True), task)
            return dict(X=X, y=y)

    class Libsvm(BaseDataset):
        """A LIBSVM file of the shared data folder (NUMOPT_LIBSVM_DIR, default ../shared/data/libsvm)."""
        name = "libsvm"

        def get_data(self):
            X, y = libsvm(self.dataset, task)
            return dict(X=X, y=y)

    return Simulated, Libsvm
