import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_data.py
import _data  # noqa: E402


class Dataset(_data.dataset_classes("classification")[1]):
    parameters = {"dataset": ["heart_scale", "a9a", "w8a"]}
