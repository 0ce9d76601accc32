"""Small number helpers shared by the benchmarks: percentiles and the figures of bench.md."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values by the nearest rank (q in [0, 1])."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def figure(value, spec: str = ".2f", none: str = "–") -> str:
    """A number as bench.md prints it; None and NaN as a dash."""
    if value is None or value != value:
        return none
    return format(value, spec)


def size_label(n: int) -> str:
    """10000 -> 10k, 1000000 -> 1M."""
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
