"""A-CODER and VR-A-CODER (Lin, Song & Diakonikolas, ICML 2023): the solve generators of
method ``"acoder"``, registered in :mod:`numopt.solvers.cyclic_cd` (the algorithms are
described in that module's docstring)."""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from ._cyclic_cd_blocks import _batch_opts, _lipschitz_opts, _measure, _setup, _strong_convexity
from .._options import generator


def _acoder(problem, x0, opts):
    # (a plain function: the two variants are separate generators)
    return (_vr_acoder if opts["variance_reduction"] else _acoder_sweeps)(problem, x0, opts)


def _acoder_sweeps(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts)
    gamma = opts["gamma"]
    gamma = _strong_convexity(problem.regularizer) if gamma is None else float(gamma)
    L = _lipschitz_opts(opts, orc)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    x0b = B.split(x0f)
    v, y = list(x0b), list(x0b)
    z = B.zeros(xp.float64)
    p_prev = gx_prev = None
    a_prev, A = 0.0, 0.0
    gy, fy = orc.full_grad(y)
    yield Step(xp.astype(B.full(y), out), fy + prox.value(B.full(y)), measure(y, gy), A_k=0.0, lipschitz=L)
    while True:
        A_prev = A
        c = 1.0 + gamma * A_prev
        a = (c + math.sqrt(c * c + 8.0 * L * A_prev * c)) / (4.0 * L)
        A = A_prev + a
        x = [(A_prev * yj + a * vj) / A for yj, vj in zip(y, v)]
        gx, _ = orc.full_grad(x)                    # grad f(x_k): the next extrapolation term
        state = orc.start(x)
        ynew, p = [], []
        for j in range(B.m):
            pj = orc.block_grad(state, j)
            qj = pj if p_prev is None else pj + (a_prev / a) * (gx_prev[j] - p_prev[j])
            z[j] = z[j] + a * qj
            v[j] = prox(x0b[j] - z[j], A, j)
            yj = (A_prev * y[j] + a * v[j]) / A
            state = orc.move(state, j, yj - x[j])
            ynew.append(yj)
            p.append(pj)
        orc.sweep_done(None)
        y, p_prev, gx_prev, a_prev = ynew, p, gx, a
        gy, fy = orc.full_grad(y)
        yield Step(xp.astype(B.full(y), out), fy + prox.value(B.full(y)), measure(y, gy), A_k=A, lipschitz=L)


def _vr_acoder(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts, need_finite_sum=True)
    gamma = opts["gamma"]
    gamma = _strong_convexity(problem.regularizer) if gamma is None else float(gamma)
    n = int(orc.n)
    b = _batch_opts(opts, n)
    K = opts["inner_maxiter"]
    K = max(1, int(math.ceil(n / b))) if K is None else int(K)
    L = opts["L"]
    if L is None:
        Lc = orc.component_lipschitz()
        if Lc is not None and not (math.isfinite(Lc) and Lc >= 0):
            raise ValueError(f"the components' Lipschitz constant is not finite ({Lc}): check the design `A`")
        L = max(_lipschitz_opts(opts, orc), Lc or 0.0)
    else:
        L = float(L)
    rng = generator(opts["rng"])  # (None: reproducible)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    x0b = B.split(x0f)
    v, yt = list(x0b), list(x0b)
    z = B.zeros(xp.float64)
    mu, fy = orc.full_grad(yt)
    yield Step(xp.astype(B.full(yt), out), fy + prox.value(B.full(yt)), measure(yt, mu), A_k=0.0, lipschitz=L)
    A, a_last = 0.0, 0.0
    p_prev = r_prev = None
    while True:
        A_prev = A
        c = 1.0 + gamma * A_prev
        a = (c + math.sqrt(c * c + 8.0 * L * A_prev * c)) / (4.0 * L)
        A = A_prev + a
        acc = B.zeros(xp.float64)
        ratio = 1.0 if a_last == 0.0 else a_last / a
        for k in range(1, K + 1):
            rows = np.sort(rng.choice(n, size=b, replace=False)) if b < n else np.arange(n)
            W = K * A_prev + k * a
            x = [(A_prev * tj + a * vj) / A for tj, vj in zip(yt, v)]
            st_snap = orc.start(yt, rows)
            g_snap = orc.all_block_grads(st_snap)   # grad_B f(ytilde)
            state = orc.start(x, rows)
            r = [gx - gs + mj for gx, gs, mj in zip(orc.all_block_grads(state), g_snap, mu)]
            ynew, p = [], []
            for j in range(B.m):
                pj = orc.block_grad(state, j) - g_snap[j] + mu[j]
                qj = pj if p_prev is None else pj + ratio * (r_prev[j] - p_prev[j])
                z[j] = z[j] + a * qj
                v[j] = prox(x0b[j] - z[j], W, j)
                yj = (A_prev * yt[j] + a * v[j]) / A
                state = orc.move(state, j, yj - x[j])
                ynew.append(yj)
                p.append(pj)
            for _ in range(3):  # three passes over the batch counted: the snapshot, r at x, the sweep
                orc.sweep_done(rows)
            acc = [s + yj for s, yj in zip(acc, ynew)]
            p_prev, r_prev, ratio = p, r, 1.0
        a_last = a
        yt = [s / K for s in acc]
        mu, fy = orc.full_grad(yt)
        yield Step(xp.astype(B.full(yt), out), fy + prox.value(B.full(yt)), measure(yt, mu), A_k=A, lipschitz=L)
