"""Admins edit the customer message templates and the common-answers library (docs/service.md)."""
