"""RFC 9162 Merkle trees: published vectors, every proof for small trees, log-size proofs."""

import hashlib
import math

import pytest

from ccm.evidence.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test leaves and tree heads used by Certificate Transparency implementations.
LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def tree_of(n: int) -> MerkleTree:
    return MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(n))


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, written as plainly as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def test_published_tree_heads() -> None:
    tree = MerkleTree(leaf_hash(bytes.fromhex(x)) for x in LEAVES)
    assert [tree.root(n).hex() for n in range(1, 9)] == ROOTS
    assert tree.root(0) == EMPTY_ROOT


def test_roots_match_the_reference_for_every_size_up_to_300() -> None:
    tree = tree_of(300)
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    for n in range(301):
        assert tree.root(n) == reference_root(leaves[:n]), n


def test_every_inclusion_proof_verifies_and_a_wrong_one_fails() -> None:
    tree = tree_of(40)
    for size in range(1, 41):
        root = tree.root(size)
        for index in range(size):
            leaf = leaf_hash(index.to_bytes(4, "big"))
            path = tree.inclusion_proof(index, size)
            assert verify_inclusion(leaf, index, size, path, root)
            assert not verify_inclusion(leaf_hash(b"x"), index, size, path, root)
            if size > 1:
                assert not verify_inclusion(leaf, (index + 1) % size, size, path, root)
                bent = [bytes(32)] + path[1:] if path else path
                assert not verify_inclusion(leaf, index, size, bent, root)


def test_every_consistency_proof_verifies_and_a_wrong_one_fails() -> None:
    tree = tree_of(40)
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)
            if old < new:
                assert not verify_consistency(old, new, tree.root(old - 1), tree.root(new), proof)
                assert not verify_consistency(old, new, tree.root(old), tree.root(new - 1), proof)


def test_a_rewritten_history_is_not_consistent() -> None:
    honest, forged = tree_of(20), tree_of(20)
    forged._leaves[3] = leaf_hash(b"forged")
    proof = forged.consistency_proof(10, 20)
    assert not verify_consistency(10, 20, honest.root(10), forged.root(20), proof)


def test_proofs_stay_logarithmic_at_100000_leaves() -> None:
    n = 100_000
    tree = tree_of(n)
    root = tree.root()
    bound = math.ceil(math.log2(n))
    for index in (0, 1, 4_095, 65_536, 99_998, n - 1):
        path = tree.inclusion_proof(index)
        assert len(path) <= bound
        assert verify_inclusion(leaf_hash(index.to_bytes(4, "big")), index, n, path, root)
    for old in (1, 777, 65_536, 99_999):
        proof = tree.consistency_proof(old)
        assert len(proof) <= bound + 1
        assert verify_consistency(old, n, tree.root(old), root, proof)


@pytest.mark.parametrize("size", [-1, 5])
def test_out_of_range_requests_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="tree size"):
        tree_of(4).root(size)
    with pytest.raises(ValueError):
        tree_of(4).inclusion_proof(4, 4)
