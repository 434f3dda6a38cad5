"""realeflow-import: bulk-import spreadsheets into the Realeflow CRM."""
