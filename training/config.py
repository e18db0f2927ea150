"""Training policy: outcome windows and the need line (built from the HEZUO_ settings by api)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingConfig:
    # Income linkage: the window before enrolment and after completion, in calendar months.
    window_months: int = 6
    # Priority: households whose settled income per person over the last `need_lookback_months`,
    # scaled to a year, is below this line (minor units per person per year) come first.
    # Default 6,000 yuan: about 1.5 × the 2020 national rural poverty line.
    need_line_per_capita: int = 600_000
    need_lookback_months: int = 12
    # The public outcome aggregate is shown only for groups at least this large.
    public_min_group: int = 3
