"""Test helpers: fixture builders (random-weight checkpoints), fake servers, CLI runners.

Import them one way, as ``from tests.helpers.<module> import ...`` (pytest puts the repository root on
``sys.path`` because ``tests`` is a package); subprocesses get the root through ``PYTHONPATH``.
"""
