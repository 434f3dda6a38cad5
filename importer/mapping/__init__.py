"""Mappings: which spreadsheet columns become which API fields, and the tools around them.

Owns: the mapping model and its YAML loading (presets included), the field specs (transforms: joins,
names, companies, skip rules...), what a file's missing columns cost and its vendor footer row
(absent), which preset fits a file (fit), ``mapping suggest`` and ``mapping check``.
May import: the foundation, read (headers, sampling a file), validate (normalisers, the rules).
"""
