"""The layered layout: layers, crossings, spacing and size limits."""

from __future__ import annotations

import random

from asyncflow._visualization._layout import NODE_GAP, _crossings, _order, layout


def _overlaps(xs: list[float], widths: list[float], layers: list[int]) -> list[tuple[int, int]]:
    bad = []
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if layers[i] == layers[j] and abs(xs[i] - xs[j]) < (widths[i] + widths[j]) / 2:
                bad.append((i, j))
    return bad


def test_layers_follow_the_longest_path_from_the_roots() -> None:
    # 0 -> 1 -> 2 -> 3 and 0 -> 3: node 3 sits below the whole chain
    placed = layout([80.0] * 4, 30.0, [(0, 1), (1, 2), (2, 3), (0, 3)])

    assert placed.layers == [0, 1, 2, 3]
    assert placed.y[0] < placed.y[1] < placed.y[2] < placed.y[3]


def test_a_root_used_late_is_drawn_just_above_its_consumer() -> None:
    # chain 0 -> 1 -> 2 -> 3; root 4 only feeds 3
    placed = layout([80.0] * 5, 30.0, [(0, 1), (1, 2), (2, 3), (4, 3)])

    assert placed.layers[4] == 2


def test_long_edges_bend_through_one_point_per_layer_crossed() -> None:
    placed = layout([80.0] * 4, 30.0, [(0, 1), (1, 2), (2, 3), (0, 3)])

    short, long_edge = placed.paths[0], placed.paths[3]
    assert len(short) == 2
    assert len(long_edge) == 4  # start, two bends, end
    assert long_edge[0][1] == placed.y[0] + 15  # leaves the bottom of the source box
    assert long_edge[-1][1] == placed.y[3] - 15  # enters the top of the target box


def test_boxes_in_one_layer_never_overlap() -> None:
    rng = random.Random(7)
    n = 60
    widths = [rng.uniform(60, 200) for _ in range(n)]
    edges = [(rng.randrange(i), i) for i in range(1, n) for _ in range(2)]
    placed = layout(widths, 30.0, sorted(set(edges)))

    assert _overlaps(placed.x, widths, placed.layers) == []
    assert min(x - w / 2 for x, w in zip(placed.x, widths, strict=True)) >= 0
    assert max(x + w / 2 for x, w in zip(placed.x, widths, strict=True)) <= placed.width


def test_ordering_sweeps_remove_crossings() -> None:
    # layer 0: 0 1 2; layer 1: 3 4 5, wired in reverse so the given order crosses 3 times
    down: list[list[int]] = [[5], [4], [3], [], [], []]
    up: list[list[int]] = [[], [], [], [2], [1], [0]]
    rows = [[0, 1, 2], [3, 4, 5]]
    assert _crossings(rows, down, [0, 1, 2, 0, 1, 2]) == 3

    ordered = _order([list(r) for r in rows], up, down)

    pos = [0] * 6
    for row in ordered:
        for i, v in enumerate(row):
            pos[v] = i
    assert _crossings(ordered, down, pos) == 0


def test_crossings_are_counted_exactly() -> None:
    # layer 0: a(0) b(1); layer 1: c(2) d(3); a->d and b->c cross once
    down = [[3], [2], [], []]

    assert _crossings([[0, 1], [2, 3]], down, [0, 1, 0, 1]) == 1
    assert _crossings([[0, 1], [3, 2]], down, [0, 1, 1, 0]) == 0


def test_a_single_node_and_an_empty_graph() -> None:
    one = layout([100.0], 30.0, [])
    empty = layout([], 30.0, [])

    assert one.width >= 100 + 2 * NODE_GAP / 2
    assert one.x[0] > 0
    assert empty.x == [] and empty.paths == []


def test_thousands_of_long_edges_stay_within_the_bend_budget() -> None:
    # a 1,000-task chain plus one root feeding every task: ~500,000 bends without a budget
    n = 1000
    edges = [(i, i + 1) for i in range(n - 1)] + [(n, i) for i in range(0, n, 2)]
    placed = layout([80.0] * (n + 1), 30.0, edges)

    bends = sum(len(p) - 2 for p in placed.paths)
    assert bends <= max(2000, 4 * (n + 1))
    assert len(placed.paths) == len(edges)
