"""The validate stage: normalise a frame of API fields, then check it against the field rules.

Owns: the vectorised normalisers (states, ZIPs, phones, e-mails, types, tags), the pandera schemas
where the rules are declared once, and the problems they find.
May import: the foundation (errors, fields, problems, arrowtext, suggestions).
"""
