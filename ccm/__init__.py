"""ccm: Customer Communications Management for provable regulated communications.

The core engine: domain identifiers and payments, the composition engine, document
models, persistence, configuration and the command line. Adapters live beside it in
``signing/``, ``channels/`` and ``api/``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
