"""Offline verification of evidence packs: no database, no network.

Every check is one line of the report, named by the file or event it is about, so a
failure says exactly what no longer holds. What is checked:

1. ``manifest.json`` follows its schema and its seal verifies (signer, chain, timestamp);
2. every listed file is present with its SHA-256 and size, and nothing unlisted is there;
3. every event in ``events.jsonl`` re-hashes (RFC 8785 + SHA-256, recomputed with the
   reference encoder), appears once, in ledger order, links to the previous event of its
   communication, and matches the manifest's list;
4. every event's inclusion proof leads to the checkpoint's root (RFC 9162);
5. the checkpoint's seal verifies, and it is the one the manifest names;
6. the certificates in ``certs/`` are the ones that sealed the pack;
7. every PDF's signatures verify and cover the whole file;
8. every artefact an event names is in the pack.
"""

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ccm.evidence.merkle import leaf_hash, verify_inclusion
from ccm.evidence.records import EvidenceRecord, TreeHead, jcs
from ccm.ports import SignatureCheck, SignatureVerifier

__all__ = ["Check", "PackReport", "certificates_in", "verify_pack"]

_SEALS = {"manifest.json.p7s", "manifest.json"}
_T = TypeVar("_T")
_MAX_ENTRY = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One verified statement about the pack."""

    subject: str
    """The file or event the check is about."""
    ok: bool
    detail: str


@dataclass(slots=True, kw_only=True)
class PackReport:
    """Every check made on one pack."""

    checks: list[Check] = field(default_factory=list)
    legal_proof: str | None = None
    """One line on the event that proves notification, if any."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, subject: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(subject=subject, ok=ok, detail=detail))
        return ok


def _manifest_schema() -> dict[str, Any]:
    text = (
        resources.files("ccm.evidence")
        .joinpath("schemas/evidence-pack-manifest.v1.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _seal_detail(check: SignatureCheck) -> str:
    if not check.ok:
        return "; ".join(check.problems)
    when = f", timestamped {check.signed_at:%Y-%m-%d %H:%M:%S} UTC" if check.signed_at else ""
    return f"sealed by {check.signer}{when}"


def certificates_in(pem: bytes) -> list[x509.Certificate]:
    """Certificates of a PEM bundle (empty when it holds none or is unreadable)."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []


class _Pack:
    """The ZIP, read defensively: one entry per name, bounded sizes, errors as ``None``."""

    def __init__(self, archive: zipfile.ZipFile, report: PackReport) -> None:
        self.archive = archive
        self.report = report
        self.names: set[str] = set()
        for info in archive.infolist():
            name = info.filename
            if name in self.names:
                # ZIP tools disagree on which copy of a duplicated name they extract.
                report.add(name, False, "appears twice in the ZIP (a second copy was planted)")
            elif info.is_dir() or "\x00" in name or name.startswith("/") or ".." in name.split("/"):
                report.add(name, False, "not a plain file entry (directory or unsafe name)")
            self.names.add(name)

    def read(self, name: str) -> bytes | None:
        if name not in self.names:
            return None
        info = self.archive.getinfo(name)
        if info.file_size > _MAX_ENTRY:
            self.report.add(name, False, f"larger than {_MAX_ENTRY // 2**20} MiB; not read")
            return None
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as err:
            self.report.add(name, False, f"cannot be read from the ZIP: {err}")
            return None


class _SealsOnce:
    """The verifier, checking each seal once however many steps ask about it (the
    manifest and checkpoint seals are read for their status and for their signers)."""

    def __init__(self, verifier: SignatureVerifier) -> None:
        self._verifier = verifier
        self._seals: dict[tuple[bytes, bytes], SignatureCheck] = {}

    def verify_seal(self, data: bytes, seal: bytes) -> SignatureCheck:
        key = (hashlib.sha256(data).digest(), hashlib.sha256(seal).digest())
        if key not in self._seals:
            self._seals[key] = self._verifier.verify_seal(data, seal)
        return self._seals[key]

    def verify_pdf(self, pdf: bytes) -> list[SignatureCheck]:
        return self._verifier.verify_pdf(pdf)


def _guarded(report: PackReport, subject: str, step: Callable[[], _T]) -> _T | None:
    """Run one step; a malformed pack makes it fail by name, never crash the verifier."""
    try:
        return step()
    except Exception as err:  # noqa: BLE001 - any error in a step is a failed check
        report.add(subject, False, f"malformed: {type(err).__name__}: {err}")
        return None


def verify_pack(
    data: bytes, *, verifier: SignatureVerifier, signer: str | None = None
) -> PackReport:
    """Verify the pack in ``data`` and return every check made.

    Parameters:
        signer: text the sealer's certificate subject must contain (e.g. the operator's
            CNPJ); the trust anchors alone admit anyone they certify.
    """
    report = PackReport()
    verifier = _SealsOnce(verifier)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        report.add("pack", False, f"not a ZIP file: {err}")
        return report
    with archive:
        pack = _Pack(archive, report)
        manifest = _guarded(
            report, "manifest.json", lambda: _check_manifest(pack, report, verifier)
        )
        if manifest is None:
            return report
        _guarded(report, "files", lambda: _check_files(pack, manifest, report))
        records = _guarded(report, "events.jsonl", lambda: _check_events(pack, manifest, report))
        head = _guarded(
            report, "checkpoint", lambda: _check_checkpoint(pack, manifest, report, verifier)
        )
        if head is not None:
            _guarded(
                report,
                "proofs/inclusion.json",
                lambda: _check_proofs(pack, records or [], head, report),
            )
        _guarded(report, "certs", lambda: _check_signers(pack, report, verifier, signer))
        _guarded(
            report, "PDF signatures", lambda: _check_pdfs(pack, manifest, report, verifier, signer)
        )
        _guarded(report, "artifacts", lambda: _check_artifacts(manifest, records or [], report))
        _guarded(report, "legal proof", lambda: _describe_proof(manifest, records or [], report))
    return report


def _check_manifest(
    pack: _Pack, report: PackReport, verifier: SignatureVerifier
) -> dict[str, Any] | None:
    raw = pack.read("manifest.json")
    if raw is None:
        report.add("manifest.json", False, "missing")
        return None
    try:
        manifest: dict[str, Any] = json.loads(raw)
        jsonschema.validate(manifest, _manifest_schema())
    except (ValueError, jsonschema.ValidationError) as err:
        message = err.message if isinstance(err, jsonschema.ValidationError) else str(err)
        report.add("manifest.json", False, f"not a valid manifest: {message}")
        return None
    report.add("manifest.json", True, f"schema {manifest['schema']}")
    seal = pack.read("manifest.json.p7s")
    if seal is None:
        report.add("manifest.json.p7s", False, "missing: the manifest is not sealed")
    else:
        check = verifier.verify_seal(raw, seal)
        report.add("manifest.json.p7s", check.ok, _seal_detail(check))
    return manifest


def _check_files(pack: _Pack, manifest: dict[str, Any], report: PackReport) -> None:
    listed = set()
    for entry in manifest["files"]:
        path = entry["path"]
        listed.add(path)
        content = pack.read(path)
        if content is None:
            report.add(path, False, "listed in the manifest but missing from the pack")
        elif hashlib.sha256(content).hexdigest() != entry["sha256"]:
            report.add(path, False, "SHA-256 differs from the manifest: the file was changed")
        elif len(content) != entry["size"]:
            report.add(path, False, "size differs from the manifest")
        else:
            report.add(path, True, f"SHA-256 {entry['sha256'][:16]}… matches")
    for extra in sorted(pack.names - listed - _SEALS):
        report.add(extra, False, "in the pack but not listed in the manifest")


def _check_events(
    pack: _Pack, manifest: dict[str, Any], report: PackReport
) -> list[EvidenceRecord]:
    raw = pack.read("events.jsonl")
    if raw is None:
        report.add("events.jsonl", False, "missing")
        return []
    records: list[EvidenceRecord] = []
    seen: dict[str, int] = {}
    last_of: dict[str, str] = {}
    previous_index = -1
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = EvidenceRecord.from_json(json.loads(line))
            index, event_id = record.index, record.id
            communication = record.communication_id
            rehashed = hashlib.sha256(jcs(record.body)).hexdigest()
            if not isinstance(record.body.get("artifacts", []), list):
                raise TypeError("artifacts must be a list")
        except Exception as err:  # noqa: BLE001 - any malformed line is a failed check
            report.add(f"events.jsonl line {number}", False, f"unreadable event: {err}")
            continue
        name = f"event {event_id} (index {index})"
        if event_id in seen:
            report.add(name, False, f"appears twice (lines {seen[event_id]} and {number})")
            continue
        seen[event_id] = number
        problems = []
        if rehashed != record.hash:
            problems.append("its content no longer matches its hash (edited)")
        if index <= previous_index:
            problems.append(f"out of ledger order (after index {previous_index})")
        expected = last_of.get(communication)
        if record.body.get("communication_prev_hash") != expected:
            problems.append(
                "the event before it in this communication is missing or out of place"
                if expected is not None or record.body.get("communication_prev_hash")
                else "its link to the previous event does not match"
            )
        report.add(name, not problems, "; ".join(problems) or "hash and links verified")
        last_of[communication] = record.hash
        previous_index = max(previous_index, index)
        records.append(record)
    listed = [(e["id"], e["hash"]) for e in manifest["events"]]
    present = [(r.id, r.hash) for r in records]
    for event_id, digest in listed:
        if (event_id, digest) not in present:
            report.add(f"event {event_id}", False, "listed in the manifest, missing or changed")
    for event_id, digest in present:
        if (event_id, digest) not in listed:
            report.add(f"event {event_id}", False, "not listed in the manifest")
    return records


def _check_checkpoint(
    pack: _Pack, manifest: dict[str, Any], report: PackReport, verifier: SignatureVerifier
) -> TreeHead | None:
    raw, seal = pack.read("checkpoint/tree-head.json"), pack.read("checkpoint/tree-head.p7s")
    if raw is None or seal is None:
        report.add("checkpoint", False, "tree head or its seal missing")
        return None
    try:
        head = TreeHead.from_json(json.loads(raw), seal)
        bytes.fromhex(head.root_hash)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        report.add("checkpoint", False, f"unreadable tree head: {err}")
        return None
    check = verifier.verify_seal(raw, seal)
    report.add(
        "checkpoint",
        check.ok,
        f"tree of {head.tree_size} events, root {head.root_hash[:16]}…: {_seal_detail(check)}",
    )
    named = manifest["checkpoint"]
    if (named["tree_size"], named["root_hash"]) != (head.tree_size, head.root_hash):
        report.add("checkpoint", False, "not the checkpoint the manifest names (replaced)")
    return head


def _check_proofs(
    pack: _Pack, records: list[EvidenceRecord], head: TreeHead, report: PackReport
) -> None:
    try:
        proofs = {p["event_id"]: p for p in json.loads(pack.read("proofs/inclusion.json") or b"")}
    except (ValueError, KeyError, TypeError):
        report.add("proofs/inclusion.json", False, "missing or unreadable")
        return
    root = bytes.fromhex(head.root_hash)
    for record in records:
        name = f"event {record.id} (index {record.index})"
        proof = proofs.get(record.id)
        if proof is None:
            report.add(name, False, "no inclusion proof")
            continue
        path: list[bytes] = []
        try:
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            ok = (
                proof["leaf_index"] == record.index
                and proof["tree_size"] == head.tree_size
                and verify_inclusion(
                    leaf_hash(bytes.fromhex(record.hash)), record.index, head.tree_size, path, root
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        report.add(
            name,
            ok,
            f"included in the signed tree of {head.tree_size} ({len(path)} hashes)"
            if ok
            else "its inclusion proof does not lead to the signed root",
        )


def _check_signers(
    pack: _Pack, report: PackReport, verifier: SignatureVerifier, expected: str | None
) -> None:
    """One signer seals the manifest and the checkpoint; ``certs/`` holds its chain."""
    checks: dict[str, SignatureCheck] = {}
    for data_name, seal_name in (
        ("manifest.json", "manifest.json.p7s"),
        ("checkpoint/tree-head.json", "checkpoint/tree-head.p7s"),
    ):
        data, seal = pack.read(data_name), pack.read(seal_name)
        if data is not None and seal is not None:
            checks[seal_name] = verifier.verify_seal(data, seal)
    signers = {c.signer_certificate for c in checks.values() if c.signer_certificate}
    if len(signers) > 1:
        named = "; ".join(f"{name} by {c.signer}" for name, c in checks.items())
        report.add("manifest.json.p7s", False, f"sealed by a different signer: {named}")
    if expected is not None:
        for name, check in checks.items():
            if expected not in (check.signer or ""):
                report.add(name, False, f"sealed by {check.signer}, not {expected!r}")
    sealing = {der for c in checks.values() for der in c.certificates}
    for name in sorted(n for n in pack.names if n.startswith("certs/")):
        certs = certificates_in(pack.read(name) or b"")
        if not certs:
            report.add(name, False, "holds no certificate")
            continue
        foreign = [c for c in certs if c.public_bytes(serialization.Encoding.DER) not in sealing]
        report.add(
            name,
            not foreign,
            "the certificates that sealed this pack"
            if not foreign
            else f"{foreign[0].subject.rfc4514_string()} did not seal this pack (swapped)",
        )


def _check_pdfs(
    pack: _Pack,
    manifest: dict[str, Any],
    report: PackReport,
    verifier: SignatureVerifier,
    expected: str | None,
) -> None:
    for entry in manifest["files"]:
        if entry["media_type"] != "application/pdf" or entry["path"] not in pack.names:
            continue
        checks = verifier.verify_pdf(pack.read(entry["path"]) or b"")
        if not checks:
            report.add(entry["path"], False, "the PDF is not signed")
        for number, check in enumerate(checks, start=1):
            detail = _seal_detail(check).replace("sealed by", "signed by")
            report.add(entry["path"], check.ok, f"signature {number}: {detail}")
            if expected is not None and expected not in (check.signer or ""):
                report.add(entry["path"], False, f"signed by {check.signer}, not {expected!r}")


def _check_artifacts(
    manifest: dict[str, Any], records: list[EvidenceRecord], report: PackReport
) -> None:
    by_hash = {e["sha256"] for e in manifest["files"] if e["path"].startswith("artifacts/")}
    for record in records:
        wanted = [a["sha256"] for a in record.body.get("artifacts", [])]
        if record.body.get("payload_sha256"):
            wanted.append(record.body["payload_sha256"])
        for sha256 in wanted:
            if sha256 not in by_hash:
                report.add(
                    f"event {record.id} (index {record.index})",
                    False,
                    f"names artefact {sha256[:16]}…, which is not in the pack",
                )


def _describe_proof(
    manifest: dict[str, Any], records: list[EvidenceRecord], report: PackReport
) -> None:
    named = manifest["legal_proof"]
    if named is None:
        report.legal_proof = "no event in this pack is a legal proof of notification"
        return
    record = next((r for r in records if r.id == named["event_id"]), None)
    if record is None or not record.body["legal_proof"]["proof"]:
        report.add("manifest.json", False, "names a legal proof event the pack does not prove")
        return
    proof = record.body["legal_proof"]
    report.legal_proof = (
        f"event {record.index} ({record.body['type']} on {record.body['channel']}, "
        f"{record.body['occurred_at']}) proves notification under rule {proof['rule']}: "
        f"{proof['why']}"
    )
