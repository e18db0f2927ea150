"""The plan's progress as a small server-rendered SVG chart (no JavaScript, no chart library).

Bars: settled income per person in each of the last twelve months. A triangle above a month: a
training completed in it. A dashed line: the monthly share of the plan's income target (the
target is over twelve months). The drawing is 340 × 190 units and scales down to the page; text
is at least 11 units high, so it stays readable at 360 px.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from governance.plans import MonthRead

WIDTH = 340
HEIGHT = 190
LEFT = 8
TOP = 34  # room for the scale label and the training marks
BOTTOM = 22  # room for the month labels
BAR_GAP = 4
LABEL_SIZE = 11


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    month: date
    income: int
    trainings: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    top_value: int  # the income (minor units) at the top of the scale
    baseline_y: float
    label_y: float
    mark_y: float
    target_y: float | None
    label_size: int


def _scale_top(values: Sequence[int]) -> int:
    """A round number above the largest value (at least 1 yuan), so the top label is tidy."""
    largest = max([*values, 100])
    step = 100
    while step * 10 < largest:
        step *= 10
    return -(-largest // step) * step


def build_chart(months: Sequence[MonthRead], monthly_target: int | None) -> Chart:
    plot_height = HEIGHT - TOP - BOTTOM
    values = [max(m.income_per_capita, 0) for m in months]
    top = _scale_top([*values, monthly_target or 0])
    slot = (WIDTH - LEFT) / max(len(months), 1)
    baseline = TOP + plot_height
    bars = []
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        height = plot_height * value / top
        x = LEFT + index * slot + BAR_GAP / 2
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(baseline - height, 1),
                width=round(slot - BAR_GAP, 1),
                height=round(height, 1),
                label_x=round(x + (slot - BAR_GAP) / 2, 1),
                month=month.month,
                income=month.income_per_capita,
                trainings=month.trainings_completed,
            )
        )
    target_y = None
    if monthly_target:
        target_y = round(baseline - plot_height * monthly_target / top, 1)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        top_value=top,
        baseline_y=baseline,
        label_y=HEIGHT - 6,
        mark_y=TOP - 8,
        target_y=target_y,
        label_size=LABEL_SIZE,
    )


def monthly_target(targets: Sequence[int | None]) -> int | None:
    """The monthly share of the largest income target over twelve months (None without one)."""
    known = [t for t in targets if t]
    return round(max(known) / 12) if known else None
