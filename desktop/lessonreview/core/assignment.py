"""The one-to-one assignment of rows to columns at least total cost (the Hungarian
method), for the tracker (detections to tracks) and for agreement between coders
(one coder's segments to the other's). Pure Python: the matrices are small (a few
dozen people, or the segments of one group), and scipy is not a run-time dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def assign(cost: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one assignment of rows to columns (Hungarian method).

    Works on rectangular matrices: every row is assigned when there are at least as
    many columns, otherwise every column. Returns (row, column) pairs sorted by row.
    O(n^2 m) with potentials; a classroom has a few dozen people per frame.
    """
    n_rows, n_cols = len(cost), len(cost[0]) if cost else 0
    if n_rows == 0 or n_cols == 0:
        return []
    transposed = n_rows > n_cols
    if transposed:
        cost = [list(col) for col in zip(*cost, strict=True)]
        n_rows, n_cols = n_cols, n_rows
    inf = math.inf
    # 1-based arrays as in the classic formulation; column 0 is a virtual start.
    u = [0.0] * (n_rows + 1)
    v = [0.0] * (n_cols + 1)
    match_col = [0] * (n_cols + 1)  # row matched to each column, 0 if none
    way = [0] * (n_cols + 1)
    for row in range(1, n_rows + 1):
        match_col[0] = row
        col0 = 0
        min_v = [inf] * (n_cols + 1)
        used = [False] * (n_cols + 1)
        while True:
            used[col0] = True
            r0 = match_col[col0]
            delta, col1 = inf, 0
            for col in range(1, n_cols + 1):
                if not used[col]:
                    cur = cost[r0 - 1][col - 1] - u[r0] - v[col]
                    if cur < min_v[col]:
                        min_v[col], way[col] = cur, col0
                    if min_v[col] < delta:
                        delta, col1 = min_v[col], col
            for col in range(n_cols + 1):
                if used[col]:
                    u[match_col[col]] += delta
                    v[col] -= delta
                else:
                    min_v[col] -= delta
            col0 = col1
            if match_col[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            match_col[col0] = match_col[col1]
            col0 = col1
    pairs = [(match_col[c] - 1, c - 1) for c in range(1, n_cols + 1) if match_col[c]]
    if transposed:
        pairs = [(c, r) for r, c in pairs]
    return sorted(pairs)
