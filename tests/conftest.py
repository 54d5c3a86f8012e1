"""Shared pytest plugins: the web harness (a Hotline server with a fresh store, people, and a
headless Chromium) is usable from every test folder."""

pytest_plugins = ["tests.web.harness"]
