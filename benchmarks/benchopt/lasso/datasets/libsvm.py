import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_data.py
import _data  # noqa: E402


class Dataset(_data.dataset_classes("regression")[1]):
    parameters = {"dataset": ["abalone_scale", "housing_scale"]}
