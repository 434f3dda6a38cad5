"""Implementation of the results report; import from :mod:`importer.report`.

cells    turning a chunk into report text: id rendering, formula neutralising
summary  RunSummary (counts over all chunks) and the terminal summary text
csv_json the streaming CSV and JSON writers
xlsx     the Excel writer (styles, comments, row limit)
"""
