import sys
from pathlib import Path

from benchopt import BaseDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_data.py
import _data  # noqa: E402


class Dataset(BaseDataset):
    """A LIBSVM file of the shared data folder (NUMOPT_LIBSVM_DIR, default ../shared/data/libsvm)."""
    name = "libsvm"
    parameters = {"dataset": ["heart_scale", "a9a", "w8a"]}

    def get_data(self):
        X, y = _data.libsvm(self.dataset, "classification")
        return dict(X=X, y=y)
