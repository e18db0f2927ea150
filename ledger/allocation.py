"""Split an integer amount into parts proportional to integer weights, exactly (largest remainder).

The one rule every split in Hezuo uses (DESIGN "Money"):

1. Each part first gets the floor of its exact share ``total * weight / sum(weights)``.
2. The units left over (fewer than the number of parts) go one each to the parts with the largest
   remainders of that division; equal remainders are broken by part order (earlier part first).

So the parts always sum exactly to ``total``, each part is within one minor unit of its exact share
(it is the floor or the ceiling of it), a zero weight always gets 0, and the result depends only on
the inputs (no randomness, no floats).

Rules for the inputs:

- ``total`` is an integer (minor units). A negative total is split as the mirror of the positive
  one: ``allocate(-x, w) == [-p for p in allocate(x, w)]``, so a reversal or refund splits exactly
  as the original did, unit for unit.
- ``weights`` is a non-empty sequence of integers ≥ 0 with at least one weight > 0. A negative
  weight, an all-zero or empty list raise ``ValueError``; a non-integer (float, bool, Decimal)
  raises ``TypeError``.
"""

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` by ``weights``: largest remainder, ties by order (see the module doc)."""
    _check_int("total", total)
    for index, weight in enumerate(weights):
        _check_int(f"weights[{index}]", weight)
        if weight < 0:
            raise ValueError(f"weights[{index}] is {weight}; weights must be zero or positive")
    if not weights:
        raise ValueError("weights is empty; give at least one weight")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("every weight is zero; at least one weight must be positive")
    if total < 0:
        return [-part for part in allocate(-total, weights)]

    parts: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        quotient, remainder = divmod(total * weight, weight_sum)
        parts.append(quotient)
        remainders.append(remainder)
    left_over = total - sum(parts)  # 0 <= left_over < len(weights)
    if left_over:
        # Largest remainder first; equal remainders in part order (sorted() is stable).
        by_remainder = sorted(range(len(weights)), key=lambda i: -remainders[i])
        for index in by_remainder[:left_over]:
            parts[index] += 1
    return parts


def _check_int(name: str, value: object) -> None:
    # bool is an int subclass, but True as an amount or a weight is a bug, not a number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int (minor units), not {type(value).__name__}")
