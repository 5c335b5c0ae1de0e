"""Evidence packs: one ZIP per communication or case that anyone can verify offline.

Layout (``manifest.json`` lists every other file with its SHA-256 and is itself sealed):

::

    manifest.json              schema ccm.evidence-pack/1: subject, events, checkpoint, files
    manifest.json.p7s          detached CMS seal of manifest.json, with an RFC 3161 timestamp
    events.jsonl               the ledger records, one canonical JSON object per line
    proofs/inclusion.json      RFC 9162 audit path of every event up to the checkpoint
    checkpoint/tree-head.json  the signed tree head (size, root, time)
    checkpoint/tree-head.p7s   its seal
    artifacts/<sha256>.<ext>   signed PDFs, e-mail bytes, provider callbacks, recordings...
    certs/sealer.pem           the sealing certificate and chain
    certificate.pdf            the PAdES-signed pt-BR "Certificado de Comprovação de Notificação"
    LEIA-ME.txt                how to verify, in pt-BR, with ccm or with openssl alone
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ccm.errors import EvidenceError
from ccm.evidence.ledger import Ledger
from ccm.evidence.records import EvidenceRecord, TreeHead, canonical, iso_utc
from ccm.ports import ArtifactStore, Sealer

__all__ = [
    "MANIFEST_SCHEMA",
    "CertificateRenderer",
    "PackParties",
    "PackSubject",
    "build_pack",
    "certificate_data",
    "extension_for",
]

MANIFEST_SCHEMA = "ccm.evidence-pack/1"
BRASILIA = ZoneInfo("America/Sao_Paulo")
_EXTENSIONS = {
    "application/pdf": "pdf",
    "message/rfc822": "eml",
    "message/disposition-notification": "mdn",
    "application/json": "json",
    "text/plain": "txt",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/csv": "csv",
}


def extension_for(media_type: str) -> str:
    """File extension used in packs for ``media_type``."""
    return _EXTENSIONS.get(media_type, "bin")


@dataclass(frozen=True, slots=True, kw_only=True)
class PackSubject:
    """What a pack is about: one communication or one case."""

    kind: Literal["communication", "case"]
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PackParties:
    """Who is who, for the certificate (events themselves carry no personal data)."""

    operator: Mapping[str, Any]
    """The operator as in template data (name, CNPJ, ANS registration, address)."""
    addressee: Mapping[str, Any]
    """The person notified: name, CPF, address."""
    communications: Sequence[Mapping[str, Any]]
    """For each communication: id, title, document_id (optional)."""


CertificateRenderer = Callable[[Mapping[str, Any], str], bytes]
"""Renders certificate data (and a document id) into a signed PDF."""


def _local(moment: str) -> tuple[str, str]:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(BRASILIA)
    return parsed.date().isoformat(), parsed.strftime("%H:%M:%S")


def _first_proof(records: Sequence[EvidenceRecord]) -> EvidenceRecord | None:
    proofs = [r for r in records if r.body["legal_proof"]["proof"]]
    return min(proofs, key=lambda r: r.body["occurred_at"]) if proofs else None


def certificate_data(
    *,
    subject: PackSubject,
    parties: PackParties,
    records: Sequence[EvidenceRecord],
    head: TreeHead,
    documents: Mapping[str, str],
    issue_date: date,
    sealer_pem: bytes,
) -> dict[str, Any]:
    """The certificate template's data for ``records`` sealed under ``head``.

    ``documents`` maps communication id to the SHA-256 of its signed document;
    ``sealer_pem`` is the sealing certificate (first) and its chain.
    """
    timeline = []
    for record in sorted(records, key=lambda r: (r.body["occurred_at"], r.index)):
        day, time = _local(record.body["occurred_at"])
        timeline.append(
            {
                "index": record.index,
                "communication_id": record.communication_id,
                "date": day,
                "time": time,
                "channel": record.body["channel"],
                "type": record.body["type"],
                "actor": record.body["actor"],
                "provider": record.body["provider"],
                "proof": record.body["legal_proof"]["proof"],
                "rule": record.body["legal_proof"]["rule"],
                "code": record.body["legal_proof"]["code"],
                "method": record.body["details"].get("method"),
                "reasons": record.body["reasons"],
                "hash": record.hash,
            }
        )
    proof: dict[str, Any] = {"found": False}
    winner = _first_proof(records)
    if winner is not None:
        day, time = _local(winner.body["occurred_at"])
        proof = {
            "found": True,
            "index": winner.index,
            "channel": winner.body["channel"],
            "date": day,
            "time": time,
            "rule": winner.body["legal_proof"]["rule"],
            "code": winner.body["legal_proof"]["code"],
            "hash": winner.hash,
        }
    channels: dict[str, list[str]] = {}
    for record in records:
        if record.body["channel"] != "system":
            seen = channels.setdefault(record.communication_id, [])
            if record.body["channel"] not in seen:
                seen.append(record.body["channel"])
    communications = []
    for item in parties.communications:
        entry = {
            "id": item["id"],
            "title": item["title"],
            "channels": channels.get(item["id"], []),
        }
        if item.get("document_id"):
            entry["document_id"] = item["document_id"]
        if item["id"] in documents:
            entry["document_sha256"] = documents[item["id"]]
        communications.append(entry)
    day, time = _local(head.issued_at)
    return {
        "operator": dict(parties.operator),
        "addressee": {
            k: parties.addressee[k] for k in ("name", "cpf", "address") if parties.addressee.get(k)
        },
        "issue_date": issue_date.isoformat(),
        "subject": {"kind": subject.kind, "id": subject.id},
        "communications": communications,
        "timeline": timeline,
        "proof": proof,
        "checkpoint": {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash,
            "date": day,
            "time": time,
            "ledger": head.ledger,
        },
        "sandbox": any(r.body["details"].get("sandbox") == "true" for r in records),
        "sealer": _sealer_view(sealer_pem),
    }


def _sealer_view(pem: bytes) -> dict[str, str]:
    """Subject and SHA-256 fingerprint of the sealing certificate, for a reader to match."""
    certificate = x509.load_pem_x509_certificates(pem)[0]
    return {
        "subject": certificate.subject.rfc4514_string(),
        "sha256": certificate.fingerprint(hashes.SHA256()).hex(),
    }


def _records_for(ledger: Ledger, subject: PackSubject) -> list[EvidenceRecord]:
    if subject.kind == "communication":
        records = ledger.records(communication_id=subject.id)
    else:
        ids = {r.communication_id for r in ledger.records(case_id=subject.id)}
        records = sorted(
            (r for cid in ids for r in ledger.records(communication_id=cid)),
            key=lambda r: r.index,
        )
    if not records:
        raise EvidenceError(f"no evidence recorded for {subject.kind} {subject.id!r}")
    return records


_README = """PACOTE DE EVIDÊNCIAS — {subject}

Este pacote reúne os registros de evidência de {what}, selados pela operadora.
Nada aqui depende dos sistemas da operadora para ser verificado.

Conteúdo
- certificate.pdf: Certificado de Comprovação de Notificação (PDF assinado, PAdES).
- manifest.json: lista de todos os arquivos com o hash SHA-256 de cada um;
  manifest.json.p7s: assinatura digital (CMS) do manifesto, com carimbo do tempo.
- events.jsonl: os eventos, um por linha; o campo "hash" é o SHA-256 do evento em JSON
  canônico (RFC 8785) sem esse campo.
- proofs/inclusion.json: provas de inclusão de cada evento na árvore de Merkle (RFC 9162).
- checkpoint/: a raiz da árvore assinada e carimbada no tempo (tree-head.json + .p7s).
- artifacts/: documentos assinados e artefatos dos canais, com o SHA-256 como nome.
- certs/: certificados de quem selou o pacote.

Como verificar
1. Com o ccm:  ccm evidence verify pacote.zip --trust ac-raiz.pem
2. Sem o ccm, com OpenSSL (após extrair o ZIP):
   openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
       -CAfile ac-raiz.pem -purpose any -out /dev/null
   openssl cms -verify -binary -inform DER -in checkpoint/tree-head.p7s \\
       -content checkpoint/tree-head.json -CAfile ac-raiz.pem -purpose any -out /dev/null
   sha256sum artifacts/*   (compare com manifest.json)
   A assinatura de certificate.pdf pode ser conferida em qualquer leitor de PDF
   (por exemplo, pdfsig certificate.pdf).
"""


def build_pack(
    *,
    ledger: Ledger,
    store: ArtifactStore,
    sealer: Sealer,
    subject: PackSubject,
    parties: PackParties,
    render_certificate: CertificateRenderer,
    created_at: datetime,
    certificate_extra: Mapping[str, Any] | None = None,
) -> bytes:
    """Build the evidence pack of ``subject`` and return the ZIP bytes.

    ``certificate_extra`` adds sections to the certificate's data (a case's RN 593
    verdict and clock, under ``rn593``).

    A checkpoint covering every event of the subject is taken first if none exists.

    Raises:
        EvidenceError: nothing is recorded for the subject.
        ArtifactNotFound / StorageError: an artefact an event names is missing or corrupt.
        SigningError: sealing or signing failed.
    """
    records = _records_for(ledger, subject)
    head = ledger.checkpoint(sealer)
    tree = ledger.tree()
    root = tree.root(head.tree_size).hex()
    if root != head.root_hash:
        raise EvidenceError("the ledger no longer matches its latest checkpoint; run the audit")
    files: dict[str, tuple[bytes, str, str]] = {}
    documents: dict[str, str] = {}
    for record in records:
        wanted = [(a["sha256"], a["media_type"], a["role"]) for a in record.body["artifacts"]]
        if record.body["payload_sha256"]:
            wanted.append((record.body["payload_sha256"], "application/json", "provider_payload"))
        for sha256, media_type, role in wanted:
            path = f"artifacts/{sha256}.{extension_for(media_type)}"
            if path not in files:
                files[path] = (store.get(sha256), media_type, role)
            if role == "signed_document":
                documents.setdefault(record.communication_id, sha256)
    events = b"".join(canonical(r.as_json()) + b"\n" for r in records)
    proofs = [
        {
            "event_id": r.id,
            "leaf_index": r.index,
            "tree_size": head.tree_size,
            "audit_path": [h.hex() for h in tree.inclusion_proof(r.index, head.tree_size)],
        }
        for r in records
    ]
    data = certificate_data(
        subject=subject,
        parties=parties,
        records=records,
        head=head,
        documents=documents,
        issue_date=created_at.astimezone(BRASILIA).date(),
        sealer_pem=sealer.certificates_pem(),
    )
    data.update(certificate_extra or {})
    certificate_id = f"CCN-{head.tree_size}-{records[-1].hash[:12]}"
    readme = _README.format(
        subject=f"{subject.kind} {subject.id}",
        what=("o caso " if subject.kind == "case" else "a comunicação ") + subject.id,
    )
    files.update(
        {
            "events.jsonl": (events, "application/jsonl", "events"),
            "proofs/inclusion.json": (canonical(proofs), "application/json", "inclusion_proofs"),
            "checkpoint/tree-head.json": (head.signed_bytes(), "application/json", "checkpoint"),
            "checkpoint/tree-head.p7s": (head.seal, "application/pkcs7-signature", "seal"),
            "certs/sealer.pem": (sealer.certificates_pem(), "application/x-pem-file", "certs"),
            "certificate.pdf": (
                render_certificate(data, certificate_id),
                "application/pdf",
                "certificate",
            ),
            "LEIA-ME.txt": (readme.encode(), "text/plain", "readme"),
        }
    )
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "subject": {"kind": subject.kind, "id": subject.id},
        "created_at": iso_utc(created_at),
        "ledger": head.ledger,
        "checkpoint": {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash,
            "issued_at": head.issued_at,
        },
        "events": [{"id": r.id, "index": r.index, "hash": r.hash} for r in records],
        "legal_proof": (
            {"event_id": p.id, "rule": p.body["legal_proof"]["rule"]}
            if (p := _first_proof(records))
            else None
        ),
        "files": [
            {
                "path": path,
                "sha256": _sha256(content),
                "size": len(content),
                "media_type": media_type,
                "role": role,
            }
            for path, (content, media_type, role) in sorted(files.items())
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
    output = io.BytesIO()
    stamp = created_at.astimezone(BRASILIA).timetuple()[:6]
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries = {
            "manifest.json": manifest_bytes,
            "manifest.json.p7s": sealer.seal(manifest_bytes),
            **{path: content for path, (content, _, _) in sorted(files.items())},
        }
        for path, content in entries.items():
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return output.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
