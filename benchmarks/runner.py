"""A small benchmark runner: time numopt against a peer in one process, after a
warm-up, and print the ratio.

A benchmark is a list of :class:`Case`; each case has a ``setup()`` returning the
instance, and two callables ``ours(inst)`` and ``peer(inst)`` returning a dict with
at least the quality reached (e.g. ``gap``). Each is run ``warmup`` times untimed
and then ``repeat`` times; the best wall-clock time is reported.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass
class Case:
    name: str
    setup: Callable
    ours: Callable
    peer: Callable
    peer_name: str = "peer"
    quality: str = "gap"


def timed(fn, repeat=3, warmup=1):
    """Best wall-clock time of ``fn()`` over ``repeat`` runs after ``warmup`` untimed runs,
    and the output of the last run."""
    for _ in range(warmup):
        fn()
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def paired(peer, ours, repeat=5):
    """Best wall-clock times of ``peer()`` and ``ours()`` with the runs alternating (peer,
    ours, peer, ...; both warmed up by the caller): on a host whose speed drifts over
    minutes, the two minima then come from the same stretch of time. Returns (peer time,
    our time, last peer output, last our output)."""
    tp = to = float("inf")
    out_p = out_o = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out_p = peer()
        t1 = time.perf_counter()
        out_o = ours()
        t2 = time.perf_counter()
        tp, to = min(tp, t1 - t0), min(to, t2 - t1)
    return tp, to, out_p, out_o


def run_cases(cases, *, warmup=1, repeat=3, title="benchmark", save=None):
    rows = []
    print(f"# {title}  ({platform.processor() or platform.machine()}, python {platform.python_version()})")
    print(f"{'case':<38} {'numopt [s]':>11} {'peer [s]':>10} {'ratio':>7}  {'quality (ours / peer)'}")
    for c in cases:
        inst = c.setup()
        t_peer, q_peer = timed(lambda: c.peer(inst), repeat, warmup)
        # the peer's achieved quality becomes our target where the instance allows it
        if isinstance(inst, dict) and q_peer and c.quality in q_peer:
            inst["target"] = q_peer[c.quality]
        t_ours, q_ours = timed(lambda: c.ours(inst), repeat, warmup)
        ratio = t_ours / t_peer
        qo, qp = q_ours.get(c.quality), q_peer.get(c.quality)
        print(f"{c.name:<38} {t_ours:>11.4f} {t_peer:>10.4f} {ratio:>7.2f}  {qo:.2e} / {qp:.2e} ({c.peer_name})")
        rows.append(dict(case=c.name, numopt_s=t_ours, peer_s=t_peer, ratio=ratio, peer=c.peer_name,
                         quality=c.quality, ours_quality=qo, peer_quality=qp,
                         ours_extra={k: v for k, v in q_ours.items() if k != c.quality}))
    if save:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        Path(save).write_text(json.dumps(rows, indent=1, default=float))
    return rows
