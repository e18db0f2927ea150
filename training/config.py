"""Training settings from the environment (prefix HEZUO_TRAINING_): outcome windows and the need line."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TrainingConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEZUO_TRAINING_", extra="ignore")

    # Income linkage: the window before enrolment and after completion, in calendar months.
    window_months: int = Field(default=6, ge=1, le=36)
    # Priority: households whose settled income per person over the last `need_lookback_months`,
    # scaled to a year, is below this line (minor units per person per year) come first.
    # Default 6,000 yuan: about 1.5 × the 2020 national rural poverty line.
    need_line_per_capita: int = Field(default=600_000, ge=0)
    need_lookback_months: int = Field(default=12, ge=1, le=36)
    # The public outcome aggregate is shown only for groups at least this large.
    public_min_group: int = Field(default=3, ge=1)
