"""Merkle tree hashing and proofs exactly as RFC 9162 section 2.1 (RFC 6962 v2) defines them.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, the
split at the largest power of two below ``n``. Proofs are plain lists of 32-byte hashes
(audit paths), so anyone can check an evidence pack with any Certificate Transparency
library or the few lines of RFC 9162 sections 2.1.3.2 and 2.1.4.2, which
:func:`verify_inclusion` and :func:`verify_consistency` follow step by step. (Python's
Merkle libraries, such as pymerkle, encode proofs in their own formats; a pack must
not depend on one library's format.)

:class:`MerkleTree` answers roots and proofs for any prefix of a growing list of leaf
hashes; complete subtrees never change, so their hashes are kept and a proof costs
``O(log n)`` hashes once the tree is warm.
"""

import hashlib
from collections.abc import Iterable, Sequence
from hmac import compare_digest

__all__ = [
    "EMPTY_ROOT",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
_CACHE_FROM = 32
"""Complete subtrees of at least this many leaves are remembered (memory ~ 2n/32 hashes)."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash of ``data``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only list of leaf hashes with RFC 9162 roots and proofs."""

    def __init__(self, leaves: Iterable[bytes] = (), *, keep_subtrees: bool = True) -> None:
        self._leaves: list[bytes] = list(leaves)
        self._complete: dict[tuple[int, int], bytes] = {}
        self._keep = keep_subtrees

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        return self._leaves[index]

    def __len__(self) -> int:
        return len(self._leaves)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (32 bytes)."""
        self._leaves.append(leaf)

    def extend(self, leaves: Iterable[bytes]) -> None:
        self._leaves.extend(leaves)

    def root(self, size: int | None = None) -> bytes:
        """The tree head hash of the first ``size`` leaves (all by default)."""
        size = len(self._leaves) if size is None else size
        self._check_size(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = len(self._leaves) if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of ``old_size`` leaves is a prefix of ``new_size``."""
        new_size = len(self._leaves) if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove size {old_size} consistent with size {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self._leaves):
            raise ValueError(f"tree size {size} is outside 0..{len(self._leaves)}")

    def _hash(self, start: int, size: int) -> bytes:
        if size == 1:
            return self._leaves[start]
        complete = size & (size - 1) == 0 and size >= _CACHE_FROM
        if complete and (start, size) in self._complete:
            return self._complete[(start, size)]
        k = _split(size)
        value = node_hash(self._hash(start, k), self._hash(start + k, size - k))
        if complete and self._keep:
            self._complete[(start, size)] = value
        return value

    def _path(self, index: int, start: int, size: int) -> list[bytes]:
        if size == 1:
            return []
        k = _split(size)
        if index < k:
            return [*self._path(index, start, k), self._hash(start + k, size - k)]
        return [*self._path(index - k, start + k, size - k), self._hash(start, k)]

    def _subproof(self, m: int, start: int, size: int, whole: bool) -> list[bytes]:
        if m == size:
            return [] if whole else [self._hash(start, size)]
        k = _split(size)
        if m <= k:
            return [*self._subproof(m, start, k, whole), self._hash(start + k, size - k)]
        return [*self._subproof(m - k, start + k, size - k, False), self._hash(start, k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: is ``leaf`` (a leaf hash) at ``index`` of the tree ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree ``old_root`` a prefix of ``new_root``?"""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and compare_digest(fr, old_root) and compare_digest(sr, new_root)
