"""csmon: a customer-success health monitor for B2B SaaS accounts.

Data flows one way through the subpackages:
ingest -> store -> metrics/rules/scoring (evaluate) -> alerting -> outbox -> notify.
The CLI and the daemon are thin shells over the same functions.
"""

__version__ = "0.1.0"
