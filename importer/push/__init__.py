"""The push stage: the Realeflow API client and the concurrent, retrying, exactly-once sender.

Owns: the HTTP client (every httpx error translated here), retries, flow control, lost-answer
reconciliation through the list endpoints, the request log.
May import: the foundation, ledger.
"""
