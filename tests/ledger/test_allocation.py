"""allocate(): largest remainder, ties by order — examples and hypothesis properties."""

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.allocation import allocate

totals = st.integers(min_value=0, max_value=10**12)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60).filter(
    lambda ws: sum(ws) > 0
)


def exact_shares(total: int, weights: list[int]) -> list[Fraction]:
    weight_sum = sum(weights)
    return [Fraction(total * w, weight_sum) for w in weights]


# --- examples a person can check by hand -----------------------------------------------------


def test_three_way_split_of_100_gives_the_extra_unit_to_the_first_part():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_largest_remainder_wins_over_order():
    # exact shares 1.4, 1.6 -> the second part has the larger remainder
    assert allocate(3, [7, 8]) == [1, 2]


def test_sale_split_by_basis_points():
    assert allocate(10000, [7000, 1000, 1000, 1000]) == [7000, 1000, 1000, 1000]
    # exact 699.3, 99.9, 99.9, 99.9: the three .9 remainders take the 3 leftover units
    assert allocate(999, [7000, 1000, 1000, 1000]) == [699, 100, 100, 100]


def test_zero_weight_gets_nothing_and_zero_total_gives_zeros():
    assert allocate(5, [0, 1, 0, 1]) == [0, 3, 0, 2]
    assert allocate(0, [3, 4]) == [0, 0]


def test_negative_total_mirrors_the_positive_split():
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(-999, [7000, 1000, 1000, 1000]) == [-699, -100, -100, -100]


@pytest.mark.parametrize(
    ("weights", "message"),
    [([], "empty"), ([0, 0], "zero"), ([1, -1], r"weights\[1\]")],
)
def test_bad_weights_raise_value_error(weights, message):
    with pytest.raises(ValueError, match=message):
        allocate(10, weights)


@pytest.mark.parametrize(
    ("total", "weights"), [(10.0, [1, 2]), (10, [1.5, 2]), (True, [1]), (10, [True, False])]
)
def test_non_integers_raise_type_error(total, weights):
    with pytest.raises(TypeError):
        allocate(total, weights)


def test_ten_thousand_weights_and_a_trillion():
    weights = [(i * 7919) % 1000 for i in range(10_000)]
    parts = allocate(10**12, weights)
    assert sum(parts) == 10**12
    shares = exact_shares(10**12, weights)
    assert all(abs(p - s) < 1 for p, s in zip(parts, shares, strict=True))


# --- properties ------------------------------------------------------------------------------


@given(total=totals, weights=weight_lists)
def test_parts_sum_exactly_to_the_total(total, weights):
    assert sum(allocate(total, weights)) == total


@given(total=totals, weights=weight_lists)
def test_each_part_is_the_floor_or_ceiling_of_its_exact_share(total, weights):
    for part, share in zip(allocate(total, weights), exact_shares(total, weights), strict=True):
        assert abs(part - share) < 1


@given(total=totals, weights=weight_lists)
def test_deterministic(total, weights):
    assert allocate(total, weights) == allocate(total, list(weights))


@given(total=totals, weights=weight_lists)
def test_extra_units_go_to_largest_remainders_ties_by_order(total, weights):
    parts = allocate(total, weights)
    shares = exact_shares(total, weights)
    remainders = [s - int(s) for s in shares]  # shares are >= 0, int() is floor
    got_extra = [p > int(s) for p, s in zip(parts, shares, strict=True)]
    for i in range(len(weights)):
        for j in range(len(weights)):
            if got_extra[j] and not got_extra[i]:
                # j was preferred: its remainder is larger, or equal and j comes first
                assert remainders[j] > remainders[i] or (remainders[j] == remainders[i] and j < i)


@given(total=totals, weights=weight_lists)
def test_negative_total_is_the_mirror(total, weights):
    assert allocate(-total, weights) == [-p for p in allocate(total, weights)]


@given(total=totals, weights=weight_lists)
def test_zero_weights_get_zero(total, weights):
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        if weight == 0:
            assert part == 0


@settings(max_examples=20, deadline=None)
@given(
    total=totals,
    size=st.integers(min_value=1, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_properties_hold_for_up_to_ten_thousand_weights(total, size, seed):
    # Hypothesis cannot draw lists this long itself: draw a size and a seed instead.
    rng = random.Random(seed)
    weights = [rng.choice((0, 1, rng.randrange(10**6))) for _ in range(size)]
    weights[rng.randrange(size)] += 1  # at least one positive weight
    parts = allocate(total, weights)
    assert sum(parts) == total
    shares = exact_shares(total, weights)
    assert all(abs(p - s) < 1 for p, s in zip(parts, shares, strict=True))
