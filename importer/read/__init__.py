"""The read stage: files to chunks of text cells, each row keeping the number Excel shows.

Owns: opening CSV-like files (encoding and delimiter detection, cutting a big CSV into byte ranges that
worker processes parse apart) and workbooks (.xlsx/.xlsm/.xls through calamine and xlrd, sheet choice,
safety checks), headers and their normalised form, load problems (ragged lines, undecodable bytes).
May import: the foundation (errors, problems, arrowtext, suggestions).
"""
