"""engine.market.price_moves: the largest move between consecutive prices, and the suspect ones."""

from __future__ import annotations

import math

from engine.market.price_moves import SUSPECT_RATIO, PriceMoves, price_moves


def test_the_largest_move_is_signed_and_timed():
    moves = price_moves([1, 2, 3, 4], [100.0, 101.0, 98.98, 99.0])
    assert math.isclose(moves.largest, -0.02) and moves.largest_ts == 3
    assert moves.suspect == 0 and moves.first_suspect_ts is None


def test_a_quarter_either_way_is_suspect_and_just_under_is_not():
    up, down = price_moves([1, 2], [100.0, 100.0 * SUSPECT_RATIO]), price_moves([1, 2], [100.0, 100.0 / SUSPECT_RATIO])
    assert up.suspect == down.suspect == 1 and up.first_suspect_ts == down.first_suspect_ts == 2
    assert price_moves([1, 2, 3], [100.0, 124.9, 100.0]).suspect == 0  # 124.9 → 100: a 19.9 % fall


def test_a_spike_and_back_counts_twice_from_its_first_move():
    moves = price_moves([1, 2, 3, 4], [100.0, 1e300, 100.0, 100.0])
    assert moves.suspect == 2 and moves.first_suspect_ts == 2 and moves.largest_ts == 2


def test_missing_and_impossible_prices_are_skipped_not_compared():
    """A symbol absent for a while is compared across the hole, not with NaN or 0."""
    moves = price_moves([1, 2, 3, 4, 5], [100.0, float("nan"), 0.0, -5.0, 130.0])
    assert moves.suspect == 1 and moves.first_suspect_ts == 5 and math.isclose(moves.largest, 0.3)


def test_fewer_than_two_prices_have_no_moves():
    assert price_moves([], []) == price_moves([1], [100.0]) == price_moves([1, 2], [float("nan"), 5.0]) == PriceMoves()
