"""Field specs: how a mapping turns spreadsheet cells into one API field.

A mapping names, for each API field, a *spec*. The YAML forms are:

    Email                          one column
    [First Name, Last Name]        join the non-empty cells with one space
    {join: [A, B], sep: ", "}      join with another separator
    {first: [Phone 1, Phone 2]}    the first non-empty cell of several columns
    {value: PropStream}            a constant

Each spec knows the columns it reads (so a mapping can be checked against a
file's header before anything is sent) and computes the field for a whole
chunk at once with vectorised string operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from importer.errors import MappingError
from importer.problems import empty_problems

__all__ = ["Column", "Constant", "FieldSpec", "First", "Join", "parse_spec"]

Cells = Mapping[str, pd.Series]


@dataclass(frozen=True)
class FieldSpec:
    """Base of all specs. ``columns`` are the headers as written in the mapping."""

    columns: tuple[str, ...]

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        """The field's text for every row of a chunk, and any warnings (a problems frame)."""
        raise NotImplementedError

    def describe(self) -> str:
        """How the field is made, for messages: "'First Name' + 'Last Name'"."""
        return " + ".join(f"'{c}'" for c in self.columns)


def _blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype="string")


@dataclass(frozen=True)
class Column(FieldSpec):
    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        return cells[self.columns[0]].astype("string"), empty_problems()


@dataclass(frozen=True)
class Join(FieldSpec):
    sep: str = " "

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        out = _blank(index)
        for col in self.columns:
            cell = cells[col].astype("string").str.strip()
            has = cell != ""
            both = has & (out != "")
            out = out.where(~both, out + self.sep + cell)
            out = out.where(~(has & ~both), cell)
        return out, empty_problems()


@dataclass(frozen=True)
class First(FieldSpec):
    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        out = _blank(index)
        for col in self.columns:
            cell = cells[col].astype("string")
            out = out.where(out.str.strip() != "", cell)
        return out, empty_problems()


@dataclass(frozen=True)
class Constant(FieldSpec):
    value: str = ""

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        return pd.Series(self.value, index=index, dtype="string"), empty_problems()

    def describe(self) -> str:
        return f"the constant '{self.value}'"


def _column_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, Sequence)
        or not value
        or not all(isinstance(v, str | int | float) and str(v).strip() for v in value)
    ):
        raise MappingError(f"{where}: expected a column name or a list of column names, got {value!r}")
    return tuple(str(v).strip() for v in value)


def parse_spec(spec: Any, where: str) -> FieldSpec:
    """Read one field spec from YAML; ``where`` names it in messages ("fields.phone")."""
    if isinstance(spec, str | int | float) and not isinstance(spec, bool):
        text = str(spec).strip()
        if not text:
            raise MappingError(f"{where}: the column name is empty")
        return Column((text,))
    if isinstance(spec, list):
        return Join(_column_list(spec, where))
    if isinstance(spec, dict):
        keys = set(spec)
        if keys == {"value"}:
            value = spec["value"]
            if isinstance(value, bool):
                value = "true" if value else "false"
            return Constant((), value="" if value is None else str(value))
        if keys == {"first"}:
            return First(_column_list(spec["first"], f"{where}.first"))
        if keys <= {"join", "sep"} and "join" in keys:
            return Join(_column_list(spec["join"], f"{where}.join"), sep=str(spec.get("sep", " ")))
        raise MappingError(
            f"{where}: unknown spec {sorted(keys)}; use a column name, a list of columns, "
            "{first: [...]}, {join: [...], sep: ...} or {value: ...}"
        )
    raise MappingError(f"{where}: expected a column name, a list of columns or a mapping, got {spec!r}")
