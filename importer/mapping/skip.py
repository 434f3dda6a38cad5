"""Skip rules: a row, or one contact of a row, left out where a condition holds, with the reason as a warning.

Re-exported by :mod:`importer.mapping.transforms` (which parses the mapping's ``skip:`` list).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from importer.mapping.specs import Cells, Condition, cell_text, is_blank
from importer.problems import WARNING, empty_problems, make_problems

__all__ = ["SkipRule", "skip_problems", "skip_reasons"]


@dataclass(frozen=True)
class SkipRule:
    """Leave a row (or one contact of it) out where ``when`` holds; ``reason`` is what the report says."""

    when: Condition
    reason: str = ""

    def reasons(self, cells: Cells, index: pd.Index) -> pd.Series:
        hit = self.when.reasons(cells, index)
        if self.reason:
            return pd.Series(self.reason, index=index, dtype="string").where(hit != "", "")
        return hit


def skip_reasons(rules: Sequence[SkipRule], cells: Cells, index: pd.Index) -> pd.Series:
    """Per row, the reason of the first rule that holds ("" where none does)."""
    out = is_blank(index)
    for rule in rules:
        r = rule.reasons(cells, index)
        out = out.where(out != "", r)
    return out


def skip_problems(skip: pd.Series, part: str = "") -> pd.DataFrame:
    """One warning per skipped row ("skipped: Do Not Mail = Yes"), for the report's warnings column."""
    hit = (skip.fillna("") != "").to_numpy(dtype=bool)
    if not hit.any():
        return empty_problems()
    reasons = cell_text(skip[hit])
    return make_problems(
        skip.index[hit], code="row.skipped", message="skipped: " + reasons, part=part, severity=WARNING
    )
