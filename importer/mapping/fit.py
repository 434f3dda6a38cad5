"""Which preset fits a file: ``mapping presets FILE``, ``mapping suggest``'s proposal, and the hint
given when a mapping cannot run on a file of another layout.

A preset fits a file's header by two shares: of the preset's fields, how many find a column
(under its name or an alias) -- counted over the main records (the property and the first
contact) and the contact blocks the file has any column of, since vendors let users export
fewer contact blocks -- and of the file's headers, how many the preset reads. The score is
their harmonic mean; a preset whose required fields (a property's address, the first contact's
name) all find a column, with at least :data:`MIN_FIELDS` of its fields and :data:`MIN_HEADERS`
of the headers, *fits* -- unless the file names people (owner or contact names) and the preset
reads none of those columns: taking it would drop the file's owners without a word, where
``mapping suggest`` makes them contacts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from importer.errors import MappingError
from importer.mapping.model import Mapping, find_preset, load_mapping, preset_names
from importer.mapping.suggest import names_person

__all__ = ["MIN_FIELDS", "MIN_HEADERS", "PresetFit", "best_fit", "fit_hint", "fit_of", "preset_title", "rank_presets"]

#: A preset fits when at least this share of its fields find a column ...
MIN_FIELDS = 0.5
#: ... and it reads at least this share of the file's headers.
MIN_HEADERS = 0.4


@dataclass(frozen=True)
class PresetFit:
    """How well one mapping fits one file's header."""

    name: str
    title: str
    fields_found: int
    fields_total: int
    headers_read: int
    headers_total: int
    lost: tuple[str, ...]  # required fields with no column ("Property.address")
    people_unread: tuple[str, ...] = ()  # the file's name columns, when the preset reads none of them

    @property
    def field_share(self) -> float:
        return self.fields_found / self.fields_total if self.fields_total else 0.0

    @property
    def header_share(self) -> float:
        return self.headers_read / self.headers_total if self.headers_total else 0.0

    @property
    def score(self) -> float:
        a, b = self.field_share, self.header_share
        return 0.0 if self.lost or not a + b else 2 * a * b / (a + b)

    @property
    def fits(self) -> bool:
        return (
            not self.lost
            and not self.people_unread
            and self.field_share >= MIN_FIELDS
            and self.header_share >= MIN_HEADERS
        )

    def looks_like(self) -> str:
        """ "this looks like a PropertyRadar list export: --mapping propertyradar"."""
        title = self.title or f"a '{self.name}' file"
        article = "" if title.startswith(("a ", "an ", "the ")) else ("an " if title[:1].lower() in "aeiou" else "a ")
        return f"this looks like {article}{title}: --mapping {self.name}"


def preset_title(mapping: Mapping, path: Path | None = None) -> str:
    """The mapping's ``title:``, else the first comment line of its file."""
    if mapping.title or path is None:
        return mapping.title
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), "")


def fit_of(mapping: Mapping, headers: Iterable[str], name: str = "", title: str = "") -> PresetFit:
    """How well ``mapping`` fits a file with these ``headers``."""
    headers = [str(h) for h in headers if str(h).strip()]
    res = mapping.resolve(headers)
    found = set(res.resolved)
    total = hits = 0
    for i, rec in enumerate(mapping.records):
        fields = [spec.reads() for spec in rec.specs.values() if spec.reads()]
        here = sum(1 for cols in fields if found.intersection(cols))
        if i < mapping.main_records or here:
            total += len(fields)
            hits += here
    lost = tuple(label + "." + field if label else field for label, field, _ in res.lost)
    read = {h for h in res.resolved.values()}
    people = [h for h in headers if names_person(h)]
    unread = () if read.intersection(people) else tuple(people)
    return PresetFit(name or mapping.source, title or mapping.title, hits, total, len(read), len(headers), lost, unread)


def rank_presets(headers: Iterable[str]) -> list[PresetFit]:
    """Every preset's fit to a file's header, the best first (fitting ones before the rest)."""
    headers = list(headers)
    fits = []
    for name in preset_names():
        path = find_preset(name)
        try:
            mapping = load_mapping(name)
        except MappingError:  # a broken preset in mappings/ must not stop the ranking of the others
            continue
        fits.append(fit_of(mapping, headers, name, preset_title(mapping, path)))
    fits.sort(key=lambda f: (not f.fits, -f.score, -f.fields_found, f.name))
    return fits


def best_fit(headers: Iterable[str]) -> PresetFit | None:
    """The preset that fits a file's header best, or None when none fits."""
    ranked = rank_presets(headers)
    return ranked[0] if ranked and ranked[0].fits else None


def fit_hint(mapping: Mapping, headers: Iterable[str], path: Path) -> str | None:
    """For a mapping that cannot run on a file: the preset that fits the file instead, else
    ``mapping suggest``. None when the mapping is itself the best fit (then its error says enough)."""
    best = best_fit(headers)
    own = Path(mapping.source)
    if best is not None:
        preset = find_preset(best.name)
        if preset is not None and own.exists() and own.resolve() == preset.resolve():
            return None
        return f"{best.looks_like()} (ranked by: realeflow-import mapping presets {path})"
    return f"no preset fits this file: make a mapping for it: realeflow-import mapping suggest {path} -o map.yaml"
