import os
from pathlib import Path

import numpy as np
import pytest

LIBSVM_DIR = Path(os.environ.get("NUMOPT_SHARED_LIBSVM",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data" / "libsvm"))


def _namespaces():
    out = [pytest.param(np, id="numpy")]
    try:
        import array_api_strict

        out.append(pytest.param(array_api_strict, id="array_api_strict"))
    except ImportError:  # pragma: no cover
        pass
    return out


@pytest.fixture(params=_namespaces())
def xp(request):
    """The array namespace a generic test runs under (numpy and array_api_strict)."""
    return request.param


@pytest.fixture
def libsvm_dir():
    if not LIBSVM_DIR.is_dir():
        pytest.skip("shared LIBSVM data not present")
    return LIBSVM_DIR


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_collection_modifyitems(config, items):
    try:
        import cupy  # noqa: F401

        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a CUDA GPU and cupy")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


try:  # CI runs the property-based tests with a fixed seed (reproducible); locally they explore
    from hypothesis import settings as _hyp_settings

    _hyp_settings.register_profile("ci", derandomize=True, deadline=None)
    if os.environ.get("CI"):
        _hyp_settings.load_profile("ci")
except ImportError:  # pragma: no cover
    pass
