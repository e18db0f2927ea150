"""Reading entries by id range for sealing and verifying: every id once, no range too wide."""

from hypothesis import given
from hypothesis import strategies as st

from ledger.sealing import ID_CHUNK, _id_ranges


@given(st.lists(st.integers(min_value=1, max_value=50 * ID_CHUNK), max_size=5 * ID_CHUNK))
def test_ranges_cover_each_id_once_in_order_and_stay_narrow(ids: list[int]) -> None:
    ranges = list(_id_ranges(ids))
    covered = [i for _first, _last, wanted in ranges for i in sorted(wanted)]
    assert covered == sorted(set(ids))
    for first, last, wanted in ranges:
        assert min(wanted) == first
        assert max(wanted) == last
        assert len(wanted) <= ID_CHUNK
        assert last - first < 2 * ID_CHUNK
    for (_f, previous_last, _w), (next_first, _l, _w2) in zip(ranges, ranges[1:], strict=False):
        assert previous_last < next_first


def test_a_late_low_id_gets_its_own_narrow_range() -> None:
    ids = [5, *range(100_000, 100_010)]
    assert [(first, last) for first, last, _ in _id_ranges(ids)] == [(5, 5), (100_000, 100_009)]
