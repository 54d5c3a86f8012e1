"""Hotline: call-center server for transport hotlines (application layer: CLI, config, wiring)."""

__version__ = "0.1.0"
