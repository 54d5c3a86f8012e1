"""Shared live state: the ACD's event stream on Redis, and rebuilding an ACD from it."""
