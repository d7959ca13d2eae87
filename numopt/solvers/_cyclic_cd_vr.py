"""VR-CD, cyclic proximal block coordinate descent with recursive variance reduction (Cai,
Song, Wright & Diakonikolas, ICML 2023): the solve generator of method ``"vr-cd"``,
registered in :mod:`numopt.solvers.cyclic_cd` (described in that module's docstring)."""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from ._cyclic_cd_blocks import _batch_opts, _lipschitz_opts, _measure, _setup
from .._options import generator


def _vr_cd(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts, need_finite_sum=opts["variance_reduction"],
                                            method="vr-cd")
    vr = opts["variance_reduction"]
    n = int(orc.n) if vr else 1
    b = _batch_opts(opts, n) if vr else n
    q = opts["refresh"]
    q = (max(1, int(math.ceil(n / b))) if vr else 1) if q is None else int(q)
    if not vr:
        q = 1
    step = opts["step"]
    if step is None:
        L = _lipschitz_opts(opts, orc)
        if vr:
            Lc = orc.component_lipschitz()
            if Lc is None:
                Lc = orc.global_lipschitz()
            if not (math.isfinite(Lc) and Lc >= 0):
                raise ValueError(f"the components' Lipschitz constant is not finite ({Lc}): check the design `A`")
            L = L + Lc * math.sqrt(q / b)
        step = 1.0 / L
    else:
        step = float(step)
    rng = generator(opts["rng"])  # (None: reproducible)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    xk = B.split(x0f)
    gfull, fx = orc.full_grad(xk)
    yield Step(xp.astype(B.full(xk), out), fx + prox.value(B.full(xk)), measure(xk, gfull), step=step)
    x_prev = list(xk)          # x_{k-1} (the previous cycle's iterate)
    g = None
    k = 0
    while True:
        k += 1
        full = (k - 1) % q == 0
        rows = None if full else (np.sort(rng.choice(n, size=b, replace=False)) if b < n else np.arange(n))
        st_new = orc.start(xk, rows)                     # mixed points of this cycle
        st_old = None if full else orc.start(x_prev, rows)   # ... and of the previous one
        xnew = []
        gk = []
        for j in range(B.m):
            if full:
                gj = orc.block_grad(st_new, j)
            else:
                gj = g[j] + orc.block_grad(st_new, j) - orc.block_grad(st_old, j)
            xj = prox(xk[j] - step * gj, step, j)
            st_new = orc.move(st_new, j, xj - xk[j])
            if not full:
                st_old = orc.move(st_old, j, xk[j] - x_prev[j])
            xnew.append(xj)
            gk.append(gj)
        orc.sweep_done(rows)
        if not full:
            orc.sweep_done(rows)
        g = gk
        x_prev, xk = xk, xnew
        gfull, fx = orc.full_grad(xk)
        yield Step(xp.astype(B.full(xk), out), fx + prox.value(B.full(xk)), measure(xk, gfull), step=step,
                   full_gradient=bool(full))
