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
    "OMIT_FIELD",
    "ON_INVALID_CHOICES",
    "PHONE_TYPES",
    "PROPERTY_FIELDS",
    "RECORD_KINDS",
    "REJECT_BY_DEFAULT",
    "REJECT_RECORD",
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

#: What to do with a record one of whose fields holds an invalid value (a mapping's ``on_invalid``):
#: leave that field out of the payload and create the record anyway, or do not create the record.
OMIT_FIELD = "omit-field"
REJECT_RECORD = "reject-record"
ON_INVALID_CHOICES: tuple[str, ...] = (OMIT_FIELD, REJECT_RECORD)
#: Fields whose invalid value rejects the record unless a mapping says otherwise: the required ones,
#: and a property's location (a property without a valid address is not worth creating). Every other
#: field is left out when invalid: a lead keeps its name, phone and address when its e-mail is bad.
REJECT_BY_DEFAULT: dict[str, tuple[str, ...]] = {
    "contact": ("fullname",),
    "property": ("address", "city", "state", "zipcode"),
}

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
