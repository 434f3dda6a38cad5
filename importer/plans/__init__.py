"""Plans: how a mapped row becomes requests, and how their answers become the row's outcome.

Owns: payloads, the one-record-per-row plan (contacts, properties), the property-with-contacts plan
(GUID resolution, de-duplication of owners, relations) and its resume state in the ledger.
May import: the foundation, read, validate, mapping, ledger, push.
"""
