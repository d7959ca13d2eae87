import sys
from pathlib import Path

from benchopt import BaseDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_data.py
import _data  # noqa: E402


class Dataset(BaseDataset):
    name = "simulated"
    parameters = {"n_samples, n_features": [(500, 1000), (5000, 200)], "rho": [0.0, 0.6]}
    test_parameters = {"n_samples, n_features": [(50, 20)], "rho": [0.0]}

    def get_data(self):
        X, y = _data.simulated(self.n_samples, self.n_features, self.rho,
                               self.get_seed(use_repetition=True), "regression")
        return dict(X=X, y=y)
