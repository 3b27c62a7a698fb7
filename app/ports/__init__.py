"""Ports: the small async interfaces every external dependency sits behind.

Each sub-package holds one port's interface in ``__init__.py`` and its adapters
beside it (``local.py`` now, ``aws.py`` with the AWS backend). The rest of GAS
imports the interfaces only; :func:`app.ports.wiring.build` picks the adapters
once, from settings.
"""
