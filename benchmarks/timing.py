"""Wall-clock timing shared by the benchmarks: best of several runs after a warm-up."""

from __future__ import annotations

import time


def best_time(fn, repeats: int = 5, warm_up: bool = True) -> float:
    """Smallest wall time of ``repeats`` calls of ``fn`` (after one untimed call: numba
    compilation, allocator and cache warm-up)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
