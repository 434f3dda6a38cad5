"""What the Realeflow API accepts: record kinds, their fields, and the relation flags.

Field names are the API's lowercase JSON keys (as in the reference's examples);
custom fields are addressed as ``customfield_1`` .. ``customfield_28`` inside
the pipeline and sent as one ``customfields`` array.
"""

from __future__ import annotations

__all__ = [
    "CONTACT_FIELDS",
    "CONTACT_TYPES",
    "KINDS",
    "KIND_FIELDS",
    "LIST_FIELDS",
    "MAX_CUSTOM_FIELDS",
    "PHONE_TYPES",
    "PROPERTY_FIELDS",
    "RECORD_KINDS",
    "RELATION_FLAGS",
    "REQUIRED_FIELDS",
    "custom_field",
]

CONTACT_FIELDS: tuple[str, ...] = (
    "fullname",
    "email",
    "companyname",
    "phone",
    "phonetype",
    "source",
    "address",
    "city",
    "state",
    "zipcode",
    "type",
    "tags",
)
PROPERTY_FIELDS: tuple[str, ...] = ("address", "city", "state", "zipcode", "source", "tags")

#: Kinds of record the API creates.
RECORD_KINDS: tuple[str, ...] = ("contact", "property")
#: Kinds a mapping may declare (a property-with-contacts row becomes several records).
KINDS: tuple[str, ...] = (*RECORD_KINDS, "property-with-contacts")

KIND_FIELDS: dict[str, tuple[str, ...]] = {"contact": CONTACT_FIELDS, "property": PROPERTY_FIELDS}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {"contact": ("fullname",), "property": ("address",)}

#: Fields sent as JSON arrays; a cell is split on "," or ";".
LIST_FIELDS: frozenset[str] = frozenset({"type", "tags"})

MAX_CUSTOM_FIELDS = 28
PHONE_TYPES: tuple[str, ...] = ("Mobile", "Work", "Home")
CONTACT_TYPES: tuple[str, ...] = ("Buyer", "Seller")

#: The eighteen role flags of POST /api/contact/propertyrelation, as the API spells them.
RELATION_FLAGS: tuple[str, ...] = (
    "IsOwner",
    "IsPrimaryContact",
    "IsRealtor",
    "IsOccupier",
    "IsInterested",
    "IsTitleEscrowAgent",
    "IsAttorney",
    "IsInsuranceAgent",
    "IsInspector",
    "IsLenderMtgBroker",
    "IsLossMitigator",
    "IsBpoAgent",
    "IsAppraiser",
    "IsContractor",
    "IsTenant",
    "IsPropertyManager",
    "IsHoaContact",
    "IsLienContact",
)


def custom_field(slot: int) -> str:
    """The pipeline's column name for custom-field label ``slot`` (1-based)."""
    return f"customfield_{slot}"
