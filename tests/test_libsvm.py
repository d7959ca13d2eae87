"""LIBSVM loader: real shared files (skipped when absent) and files written here."""
import bz2
import gzip
import hashlib
import lzma

import numpy as np
import pytest

from problems import libsvm

SMALL = b"1 1:0.5 3:-1\n-1 2:2.0\n1 1:1 2:1 3:1\n"


@pytest.mark.parametrize("opener,suffix", [(open, ""), (lzma.open, ".xz"), (bz2.open, ".bz2"),
                                           (gzip.open, ".gz")])
def test_load_compressed_files(tmp_path, opener, suffix):
    p = tmp_path / f"tiny{suffix}"
    with opener(p, "wb") as f:
        f.write(SMALL)
    X, y = libsvm.load(p, n_features=3)
    np.testing.assert_array_equal(X.toarray(), [[0.5, 0, -1], [0, 2, 0], [1, 1, 1]])
    np.testing.assert_array_equal(y, [1, -1, 1])


def test_malformed_file(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"1 1:0.5 3:abc\n")
    with pytest.raises(ValueError, match="malformed LIBSVM file"):
        libsvm.load(p)


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'a9a'"):
        libsvm.load("a9b")


def test_missing_file_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(libsvm, "data_dirs", lambda data_dir=None: [tmp_path])
    with pytest.raises(FileNotFoundError, match="download"):
        libsvm.load("covtype.binary")


def test_checksum_mismatch_leaves_nothing(tmp_path):
    part = tmp_path / "x.part"
    part.write_bytes(SMALL)
    final = tmp_path / "x"
    with pytest.raises(ValueError, match="checksum mismatch"):
        libsvm._verify_and_commit(part, final, "0" * 64)
    assert not final.exists() and not part.exists()
    part.write_bytes(SMALL)
    out = libsvm._verify_and_commit(part, final, hashlib.sha256(SMALL).hexdigest())
    assert out == final and final.read_bytes() == SMALL and not part.exists()


def test_download_from_local_url_resumes_and_verifies(tmp_path):
    src = tmp_path / "src.txt"
    src.write_bytes(SMALL * 50)
    dest = tmp_path / "dest"
    out = libsvm.download("custom", data_dir=dest, url=src.as_uri(),
                          sha256=hashlib.sha256(SMALL * 50).hexdigest(), progress=False)
    assert out.read_bytes() == SMALL * 50
    assert list(dest.iterdir()) == [out]


def test_preprocess_labels_and_scaling():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[2.0, 0], [4, -1], [0, 3]]))
    Xs, y = libsvm.preprocess(X, np.array([2, 4, 2]), task="binary", scale="maxabs", intercept=True)
    np.testing.assert_array_equal(y, [-1, 1, -1])
    np.testing.assert_allclose(Xs.toarray(), [[0.5, 0, 1], [1, -1 / 3, 1], [0, 1, 1]])
    _, yk = libsvm.preprocess(X, np.array([3, 1, 2]), task="multiclass")
    np.testing.assert_array_equal(yk, [2, 0, 1])
    with pytest.raises(ValueError, match="exactly 2 labels"):
        libsvm.preprocess(X, np.array([1, 2, 3]), task="binary")


def _manifest(libsvm_dir):
    rows = (libsvm_dir / "MANIFEST.tsv").read_text().strip().splitlines()[1:]
    return [r.split("\t") for r in rows]


def test_shared_files_match_manifest(libsvm_dir):
    for row in _manifest(libsvm_dir):
        fname, _, _, n, p, nnz, sha = row[:7]
        if int(nnz) > 700000:
            continue  # the largest files are covered by the benchmarks
        name = fname[:-3] if fname.endswith(".xz") else fname
        X, y = libsvm.load(name, data_dir=libsvm_dir)
        assert X.shape == (int(n), int(p)), name
        assert X.nnz == int(nnz) or name.startswith("ijcnn1"), name  # ijcnn1 stores explicit zeros
        assert libsvm.DATASETS[name].sha256 == sha


def test_train_test_uses_official_split(libsvm_dir):
    Xtr, ytr, Xte, yte = libsvm.train_test("a1a", data_dir=libsvm_dir)
    assert Xtr.shape == (1605, 123) and Xte.shape == (30956, 123)
    Xtr, ytr, Xte, yte = libsvm.train_test("heart_scale", data_dir=libsvm_dir, test_size=0.2, seed=1)
    assert Xtr.shape[0] + Xte.shape[0] == 270 and Xte.shape[0] == 54
