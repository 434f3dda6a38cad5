"""Mappings: which spreadsheet columns become which API fields, and the tools around them.

Owns: the mapping model and its YAML loading (presets included), the field specs (transforms: joins,
names, companies, skip rules...), ``mapping suggest`` and ``mapping check``.
May import: the foundation, read (headers, sampling a file), validate (normalisers, the rules).
"""
