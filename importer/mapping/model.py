"""Mappings: which spreadsheet columns become which API fields.

A mapping is YAML (see README "Mapping format"). ``load_mapping`` reads and
checks it on its own (unknown kinds, fields, custom-field slots, relation
flags); ``Mapping.bind`` checks it against a file's header before any row is
read: each column is found under its own name or the first of its ``aliases:``
the file has; a missing column is fatal only where it leaves a required field
(a property's address, a contact's full name) of the mapping's main records
without any column, otherwise it is a notice ("no column 'Est LTV': custom
field 12 of Property left empty") and its cells read as empty.
``BoundMapping.extract`` turns a loaded chunk into one *field frame* per record
of the row (one for a contact or property; property + contacts for
``property-with-contacts``), and leaves out a vendor's disclaimer row at the
end of the file (:class:`Footer`).

A field frame has the row numbers as index, one column per API field present
in the mapping (custom fields as ``customfield_N``), and text values ("" when
empty) with the mapping's ``values:`` maps and ``defaults:`` applied: it is
what the validate stage checks.

The model (:class:`Mapping`, :class:`BoundMapping`, ...) is in :mod:`~importer.mapping.core`, the
reading of YAML into it in :mod:`~importer.mapping.parse`; this module re-exports both.
"""

from __future__ import annotations

from importer.mapping.absent import (
    FOOTER_MIN_LENGTH,
    FOOTER_WORDS,
    Footer,
)
from importer.mapping.core import (
    BoundMapping,
    Extracted,
    Mapping,
    RecordMapping,
    Resolution,
)
from importer.mapping.parse import (
    find_preset,
    load_mapping,
    parse_mapping,
    preset_names,
)

__all__ = [
    "FOOTER_MIN_LENGTH",
    "FOOTER_WORDS",
    "BoundMapping",
    "Extracted",
    "Footer",
    "Mapping",
    "RecordMapping",
    "Resolution",
    "find_preset",
    "load_mapping",
    "parse_mapping",
    "preset_names",
]
