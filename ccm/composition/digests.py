"""Fingerprints of template and brand files, recorded with every rendering."""

import hashlib
from pathlib import Path

__all__ = ["tree_digest"]


def tree_digest(paths: list[Path], *, base: Path) -> str:
    """SHA-256 over the relative names and bytes of ``paths``, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(base)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
