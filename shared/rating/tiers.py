"""Tiered time of use: sharing each tier of the bill's total usage between time-of-use periods.

Tier thresholds apply to the bill's total across all periods. Which period's kWh fill a tier
is a convention, and NREL's System Advisor Model (``Utilityrate5``, ssc
``cmod_utilityrate5.cpp``) implements both:

- ``chronological`` (SAM's net billing options 2-4, ``ur_calc_timestep``): usage accumulates
  in time order; an interval's Wh fall in the tier the running total of the bill is in, and
  the interval that crosses a threshold is split there. Exact on integers.
- ``proportional`` (SAM's net metering options 0-1, its default, ``ur_calc``: "prorate based
  on total net per period / total net"): each tier's kWh are shared between periods in
  proportion to each period's share of the bill's energy. In integer Wh: period ``p`` with
  ``e`` Wh of a total ``E`` has ``floor(e x min(E, T) / E)`` Wh below a threshold ``T`` (the
  cumulative floors of proration.py), so a period's tiers sum exactly to its energy.

Both return ``[period][tier]`` integer Wh; each period's row sums to its energy exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shared.rating.time_of_use import sum_by_label


def chronological_tiers(wh: np.ndarray, labels: np.ndarray, periods: int, thresholds: Sequence[int]) -> np.ndarray:
    """Wh per (period, tier): interval ``i`` (period ``labels[i]``) adds to the tier its running total is in."""
    after = np.cumsum(wh, dtype=np.int64)
    before = after - wh
    tiers = np.zeros((periods, len(thresholds) + 1), dtype=np.int64)
    below_previous = np.zeros(len(wh), dtype=np.int64)
    for tier, threshold in enumerate(thresholds):
        # the part of each interval that lies below the threshold on the running total
        below = np.minimum(after, threshold) - np.minimum(before, threshold)
        tiers[:, tier] = sum_by_label(labels, below - below_previous, periods)
        below_previous = below
    tiers[:, -1] = sum_by_label(labels, wh - below_previous, periods)
    return tiers


def proportional_tiers(energy: Sequence[int], thresholds: Sequence[int]) -> np.ndarray:
    """Wh per (period, tier) from each period's Wh: every tier shared by the periods' shares of the total."""
    total = sum(int(e) for e in energy)
    tiers = np.zeros((len(energy), len(thresholds) + 1), dtype=np.int64)
    for period, wh in enumerate(int(e) for e in energy):
        below = [wh * min(total, threshold) // total if total else 0 for threshold in thresholds] + [wh]
        previous = 0
        for tier, upto in enumerate(below):
            tiers[period, tier] = upto - previous
            previous = upto
    return tiers
