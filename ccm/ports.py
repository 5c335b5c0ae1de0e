"""Ports: what the core needs from the outside, as small protocols.

Adapters live in ``signing/`` and ``channels/``; ``ccm.bootstrap`` wires them in.
"""

from typing import Protocol

__all__ = ["DocumentSigner"]


class DocumentSigner(Protocol):
    """Signs a PDF, returning the signed bytes (an incremental update of the input)."""

    def sign(self, pdf: bytes) -> bytes:
        """Sign ``pdf``.

        Raises:
            SigningError: the key, certificate or timestamp authority failed.
        """
        ...
