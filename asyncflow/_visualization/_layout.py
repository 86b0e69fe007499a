"""A layered (Sugiyama-style) layout of a DAG, in pure Python.

The steps are the classic ones, each kept simple and linear or near-linear so that a flow
of thousands of tasks lays out in a fraction of a second:

1. layers: longest path from the roots; a root is then moved down to sit just above its
   first consumer (parameters used late stop drawing long arrows from the top);
2. edges that span several layers get invisible "dummy" nodes, one per layer crossed, so
   they bend around boxes instead of through them (up to a budget, after which the
   remaining long edges are drawn straight);
3. order inside each layer: barycentre sweeps down and up, keeping the order with the
   fewest crossings (counted in O(E log V) with a Fenwick tree);
4. x coordinates: each node is pulled towards the mean x of its neighbours, then the
   layer is made legal (order kept, boxes apart) by averaging a left-packed and a
   right-packed placement, which both satisfy the spacing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Vertical distance between two layers' box tops is ``node_height + LAYER_GAP``.
LAYER_GAP = 64.0
NODE_GAP = 28.0
DUMMY_WIDTH = 8.0
DUMMY_GAP = 10.0
MARGIN = 24.0
_SWEEPS = 8


@dataclass
class Layout:
    """Where everything goes: node centres, arrow polylines and the picture's size."""

    x: list[float]
    y: list[float]
    #: Per input edge: the points from the source's bottom centre to the target's top centre.
    paths: list[list[tuple[float, float]]]
    width: float
    height: float
    layers: list[int]


def layout(
    widths: Sequence[float],
    height: float,
    edges: Sequence[tuple[int, int]],
) -> Layout:
    """Lay out nodes of the given ``widths`` (all ``height`` tall) joined by ``edges``."""
    n = len(widths)
    layer = _layers(n, edges)
    # Nodes 0..n-1 are real; dummies are appended after them.
    node_layer = list(layer)
    node_width = list(widths)
    chains: list[list[int]] = []
    budget = max(2000, 4 * n)
    adj_down: list[list[int]] = [[] for _ in range(n)]
    for s, t in edges:
        span = layer[t] - layer[s]
        chain = [s]
        if span > 1 and span - 1 > budget:
            chains.append([s, t])  # over budget: drawn straight, left out of the ordering
            continue
        if span > 1:
            budget -= span - 1
            for k in range(layer[s] + 1, layer[t]):
                d = len(node_layer)
                node_layer.append(k)
                node_width.append(DUMMY_WIDTH)
                adj_down.append([])
                adj_down[chain[-1]].append(d)
                chain.append(d)
        adj_down[chain[-1]].append(t)
        chain.append(t)
        chains.append(chain)

    total = len(node_layer)
    adj_up: list[list[int]] = [[] for _ in range(total)]
    for u in range(total):
        for v in adj_down[u]:
            adj_up[v].append(u)
    n_layers = (max(node_layer) + 1) if total else 0
    rows: list[list[int]] = [[] for _ in range(n_layers)]
    for v in _initial_order(n, total, adj_down, node_layer):
        rows[node_layer[v]].append(v)

    rows = _order(rows, adj_up, adj_down)
    xs = _coordinates(rows, node_width, adj_up, adj_down, n)

    layer_step = height + LAYER_GAP
    ys = [MARGIN + height / 2 + node_layer[v] * layer_step for v in range(total)]
    # Ports: arrows leave a box's bottom and enter its top spread out, in the order of
    # where they come from or go to, so that they neither cross at the box nor share a tip.
    outgoing: dict[int, list[int]] = {}
    incoming: dict[int, list[int]] = {}
    for k, chain in enumerate(chains):
        outgoing.setdefault(chain[0], []).append(k)
        incoming.setdefault(chain[-1], []).append(k)
    start_x = [0.0] * len(chains)
    end_x = [0.0] * len(chains)
    for node, ks in outgoing.items():
        ks.sort(key=lambda k: xs[chains[k][1]])
        for k, x in zip(ks, _ports(xs[node], widths[node], len(ks)), strict=True):
            start_x[k] = x
    for node, ks in incoming.items():
        ks.sort(key=lambda k: xs[chains[k][-2]])
        for k, x in zip(ks, _ports(xs[node], widths[node], len(ks)), strict=True):
            end_x[k] = x
    paths: list[list[tuple[float, float]]] = []
    for k, chain in enumerate(chains):
        s, t = chain[0], chain[-1]
        points = [(start_x[k], ys[s] + height / 2)]
        points.extend((xs[d], ys[d]) for d in chain[1:-1])
        points.append((end_x[k], ys[t] - height / 2))
        paths.append(points)
    width = max((xs[v] + node_width[v] / 2 for v in range(total)), default=0.0) + MARGIN
    full_height = MARGIN * 2 + (n_layers * layer_step - LAYER_GAP if n_layers else 0.0)
    return Layout(xs[:n], ys[:n], paths, max(width, 2 * MARGIN), full_height, layer)


def _ports(centre: float, width: float, k: int) -> list[float]:
    """``k`` x positions spread over the middle half of a box (the centre when k is 1)."""
    if k == 1:
        return [centre]
    span = min(width * 0.5, 14.0 * (k - 1))
    return [centre - span / 2 + span * i / (k - 1) for i in range(k)]


def _layers(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Longest path from the roots, then roots moved down next to their first consumer."""
    down: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for s, t in edges:
        down[s].append(t)
        indegree[t] += 1
    order = [v for v in range(n) if indegree[v] == 0]
    left = list(indegree)
    layer = [0] * n
    k = 0
    while k < len(order):
        u = order[k]
        k += 1
        for v in down[u]:
            if layer[u] + 1 > layer[v]:
                layer[v] = layer[u] + 1
            left[v] -= 1
            if left[v] == 0:
                order.append(v)
    if len(order) != n:
        raise ValueError("the graph has a cycle; a flow's tasks always form a DAG")
    for u in range(n):
        if indegree[u] == 0 and down[u]:
            layer[u] = min(layer[v] for v in down[u]) - 1
    return layer


def _initial_order(
    n: int, total: int, adj_down: list[list[int]], node_layer: list[int]
) -> list[int]:
    """Depth-first order from the roots, so that related nodes start close together."""
    seen = [False] * total
    has_up = [False] * total
    for u in range(total):
        for v in adj_down[u]:
            has_up[v] = True
    out: list[int] = []
    for root in range(total):
        if seen[root] or has_up[root]:
            continue
        stack = [root]
        while stack:
            u = stack.pop()
            if seen[u]:
                continue
            seen[u] = True
            out.append(u)
            stack.extend(reversed(adj_down[u]))
    out.extend(v for v in range(total) if not seen[v])
    return out


def _order(
    rows: list[list[int]], adj_up: list[list[int]], adj_down: list[list[int]]
) -> list[list[int]]:
    """Barycentre sweeps; returns the ordering with the fewest crossings seen."""
    total = sum(len(r) for r in rows)
    pos = [0] * total
    for row in rows:
        for i, v in enumerate(row):
            pos[v] = i
    best = [list(r) for r in rows]
    best_crossings = _crossings(rows, adj_down, pos)
    sweeps = _SWEEPS if total < 3000 else 2
    for sweep in range(sweeps):
        if best_crossings == 0:
            break
        downward = sweep % 2 == 0
        layer_ids = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        neighbours = adj_up if downward else adj_down
        for li in layer_ids:
            row = rows[li]
            keys: list[float] = []
            for v in row:
                ns = neighbours[v]
                keys.append(sum(pos[u] for u in ns) / len(ns) if ns else float(pos[v]))
            ranked = sorted(range(len(row)), key=keys.__getitem__)
            row[:] = [row[i] for i in ranked]
            for i, v in enumerate(row):
                pos[v] = i
        crossings = _crossings(rows, adj_down, pos)
        if crossings < best_crossings:
            best_crossings = crossings
            best = [list(r) for r in rows]
    return best


def _crossings(rows: list[list[int]], adj_down: list[list[int]], pos: list[int]) -> int:
    """Edge crossings between consecutive layers (inversions counted with a Fenwick tree)."""
    count = 0
    for li in range(len(rows) - 1):
        targets: list[int] = []
        for u in rows[li]:  # rows are in position order, so sources come sorted
            targets.extend(sorted(pos[v] for v in adj_down[u]))
        size = len(rows[li + 1])
        tree = [0] * (size + 1)
        for seen, p in enumerate(targets):
            # edges already seen whose target lies strictly right of p cross this one
            i = p + 1
            not_greater = 0
            while i > 0:
                not_greater += tree[i]
                i -= i & -i
            count += seen - not_greater
            i = p + 1
            while i <= size:
                tree[i] += 1
                i += i & -i
    return count


def _coordinates(
    rows: list[list[int]],
    node_width: list[float],
    adj_up: list[list[int]],
    adj_down: list[list[int]],
    n_real: int,
) -> list[float]:
    total = len(node_width)
    xs = [0.0] * total

    def gap(a: int, b: int) -> float:
        g = NODE_GAP if a < n_real and b < n_real else DUMMY_GAP
        return (node_width[a] + node_width[b]) / 2 + g

    for row in rows:
        x = 0.0
        for i, v in enumerate(row):
            if i:
                x += gap(row[i - 1], v)
            xs[v] = x
    widest = max((xs[r[-1]] for r in rows if r), default=0.0)
    for row in rows:  # centre every layer under the widest one
        if row:
            shift = (widest - xs[row[-1]]) / 2
            for v in row:
                xs[v] += shift

    passes = [(range(1, len(rows)), adj_up), (range(len(rows) - 2, -1, -1), adj_down)] * 2
    for layer_ids, neighbours in passes:
        for li in layer_ids:
            row = rows[li]
            if not row:
                continue
            desired = []
            for v in row:
                ns = neighbours[v]
                desired.append(sum(xs[u] for u in ns) / len(ns) if ns else xs[v])
            _place(row, desired, xs, gap)

    left = min((xs[v] - node_width[v] / 2 for v in range(total)), default=0.0)
    return [x - left + MARGIN for x in xs]


def _place(
    row: list[int], desired: list[float], xs: list[float], gap: Callable[[int, int], float]
) -> None:
    """Put ``row`` as close to ``desired`` as its order and spacing allow."""
    sep = [gap(row[i - 1], row[i]) for i in range(1, len(row))]
    m = len(row)
    left = list(desired)
    for i in range(1, m):
        left[i] = max(left[i], left[i - 1] + sep[i - 1])
    right = list(desired)
    for i in range(m - 2, -1, -1):
        right[i] = min(right[i], right[i + 1] - sep[i])
    for i, v in enumerate(row):
        xs[v] = (left[i] + right[i]) / 2
