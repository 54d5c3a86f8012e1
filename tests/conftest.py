"""Shared pytest plugins: the web harness (a Hotline server with a fresh store, people, and a
headless Chromium) is usable from every test folder.

Property tests: on CI (`CI` set) Hypothesis tries the same examples on every run
(`derandomize`), so a submission is judged by what it was tried on before it was sent; a
developer's run draws new examples each time (failures are kept in `.hypothesis/` and tried
first next time). Either way a failure prints the blob that reproduces it."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

pytest_plugins = ["tests.web.harness"]
