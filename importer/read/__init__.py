"""The read stage: files to chunks of text cells, each row keeping the number Excel shows.

Owns: opening files, one module per format (as frictionless-py does): CSV-like text in
importer.read.delimited (encoding and delimiter detection, cutting a big CSV into byte ranges that
worker processes parse apart), workbooks in importer.read.excel and importer.read.workbook
(.xlsx/.xlsm/.xls/.xlsb/.ods through calamine, sheet choice, safety checks, parsed sheets kept for a
long-lived caller), and what they share in importer.read.base (the Source, headers and their
normalised form); load problems (ragged lines, undecodable bytes). importer.read.source opens a file
with the right reader.
May import: the foundation (errors, problems, arrowtext, suggestions).
"""
