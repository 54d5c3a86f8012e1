"""Admins edit queues and agents live: list, edit, disable, history, diff, rollback (docs/web.md)."""
