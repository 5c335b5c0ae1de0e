"""Evidence packs: an untouched pack verifies offline; every kind of tampering is named."""

import copy
import hashlib
import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import Engine

from ccm.composition import Composer
from ccm.errors import EvidenceError
from ccm.evidence import ArtifactRef, Channel, EventType
from ccm.evidence.certificate import certificate_renderer
from ccm.evidence.ledger import Ledger
from ccm.evidence.pack import PackParties, PackSubject, build_pack
from ccm.evidence.records import jcs
from ccm.evidence.sample import record_sample_notice
from ccm.evidence.verify import PackReport, verify_pack
from ccm.persistence import create_database_engine, upgrade_database
from ccm.persistence.artifacts import FileArtifactStore
from channels.sandbox import SANDBOX_HEADER, SandboxEmailChannel
from signing import DevelopmentPki, ensure_development_pki
from signing.seal import CmsSealer
from signing.verification import OfflineVerifier
from tests.evidence.conftest import event

SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
COMMUNICATION = "COM-TEST-1"


@dataclass
class Built:
    pack: bytes
    later_pack: bytes
    """A pack of another communication, sealed under a later checkpoint."""
    ledger: Ledger
    store: FileArtifactStore
    outbox: Path
    parties: PackParties


def _engine(folder: Path) -> Engine:
    engine = create_database_engine(f"sqlite:///{folder / 'ccm.db'}")
    upgrade_database(engine)
    return engine


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
    composer: Composer,
    sealer: CmsSealer,
    notice_sample: dict[str, Any],
) -> Built:
    folder = tmp_path_factory.mktemp("pack")
    ledger = Ledger(_engine(folder), name="ccm-test")
    store = FileArtifactStore(folder / "artifacts")
    mailer = SandboxEmailChannel(folder / "outbox", clock=lambda: SENT)
    parties = record_sample_notice(
        composer=composer,
        ledger=ledger,
        store=store,
        mailer=mailer,
        data=notice_sample,
        communication_id=COMMUNICATION,
        signature="development",
        now=SENT,
    )
    # Other traffic in the ledger between and after, as in production.
    ledger.append_many([event("other", minutes=i) for i in range(5)])
    pack = build_pack(
        ledger=ledger,
        store=store,
        sealer=sealer,
        subject=PackSubject(kind="communication", id=COMMUNICATION),
        parties=parties,
        render_certificate=certificate_renderer(composer),
        created_at=SENT + timedelta(minutes=30),
    )
    ledger.append_many([event("other", minutes=10 + i) for i in range(4)])
    later = build_pack(
        ledger=ledger,
        store=store,
        sealer=sealer,
        subject=PackSubject(kind="communication", id="other"),
        parties=PackParties(
            operator=parties.operator,
            addressee=parties.addressee,
            communications=[{"id": "other", "title": "Outra comunicação"}],
        ),
        render_certificate=certificate_renderer(composer),
        created_at=SENT + timedelta(minutes=40),
    )
    return Built(pack, later, ledger, store, folder / "outbox", parties)


@pytest.fixture(scope="module")
def notice_sample() -> dict[str, Any]:
    import templates

    path = templates.ROOT / "delinquency_notice" / "pt-BR" / "sample.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def entries(pack: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def repack(files: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return output.getvalue()


def tampered(pack: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    files = entries(pack)
    change(files)
    return repack(files)


def failed(report: PackReport) -> dict[str, str]:
    """Failure details by subject (several failures of one subject joined with " | ")."""
    found: dict[str, str] = {}
    for check in report.failures:
        found[check.subject] = " | ".join(filter(None, (found.get(check.subject), check.detail)))
    return found


def lines(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["events.jsonl"].splitlines()]


def set_lines(files: dict[str, bytes], records: list[dict[str, Any]]) -> None:
    files["events.jsonl"] = b"".join(jcs(r) + b"\n" for r in records)


def relist(files: dict[str, bytes]) -> None:
    """A forger who also fixes the manifest's hashes (but cannot re-seal it)."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] in files:
            entry["sha256"] = hashlib.sha256(files[entry["path"]]).hexdigest()
            entry["size"] = len(files[entry["path"]])
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()


def event_name(record: dict[str, Any]) -> str:
    return f"event {record['id']} (index {record['index']})"


# -- the untouched pack -------------------------------------------------------------------


def test_an_untouched_pack_verifies(built: Built, verifier: OfflineVerifier) -> None:
    report = verify_pack(built.pack, verifier=verifier)
    assert report.ok, failed(report)
    files = entries(built.pack)
    assert {
        "manifest.json",
        "manifest.json.p7s",
        "events.jsonl",
        "proofs/inclusion.json",
        "checkpoint/tree-head.json",
        "checkpoint/tree-head.p7s",
        "certs/sealer.pem",
        "certificate.pdf",
        "LEIA-ME.txt",
    } <= set(files)
    records = lines(files)
    assert [r["type"] for r in records] == [
        "submission_accepted",
        "content_composed",
        "document_signed",
        "relay_accepted",
        "content_handed_over",
        "content_accessed",
    ]
    assert {r["communication_id"] for r in records} == {COMMUNICATION}
    assert report.legal_proof is not None and "rule R14" in report.legal_proof
    manifest = json.loads(files["manifest.json"])
    assert manifest["legal_proof"] == {"event_id": records[-1]["id"], "rule": "R14"}
    # The checkpoint covers more than this communication: proofs are of the whole ledger.
    assert manifest["checkpoint"]["tree_size"] == 11


def test_every_artefact_an_event_names_is_in_the_pack(built: Built) -> None:
    files = entries(built.pack)
    for record in lines(files):
        named = [a["sha256"] for a in record["artifacts"]]
        named += [record["payload_sha256"]] if record["payload_sha256"] else []
        for sha256 in named:
            [path] = [p for p in files if p.startswith(f"artifacts/{sha256}")]
            assert hashlib.sha256(files[path]).hexdigest() == sha256
    signed = [r for r in lines(files) if r["type"] == "document_signed"][0]
    pdf = files[f"artifacts/{signed['artifacts'][0]['sha256']}.pdf"]
    assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf
    sent = [r for r in lines(files) if r["type"] == "relay_accepted"][0]
    eml = files[f"artifacts/{sent['artifacts'][0]['sha256']}.eml"]
    outbox = next(built.outbox.rglob("*.eml")).read_bytes()
    assert outbox == SANDBOX_HEADER + eml  # exactly the bytes handed to the channel


def _openssl_verify(data: bytes, seal: bytes, ca: Path, folder: Path) -> int:
    (folder / "data").write_bytes(data)
    (folder / "data.p7s").write_bytes(seal)
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER"]
    command += ["-in", str(folder / "data.p7s"), "-content", str(folder / "data")]
    command += ["-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"]
    return subprocess.run(command, capture_output=True, check=False).returncode


def test_seals_verify_with_openssl_alone(built: Built, pki: DevelopmentPki, tmp_path: Path) -> None:
    files = entries(built.pack)
    for name, seal in (
        ("manifest.json", "manifest.json.p7s"),
        ("checkpoint/tree-head.json", "checkpoint/tree-head.p7s"),
    ):
        ca = pki.ca_certificate
        assert _openssl_verify(files[name], files[seal], ca, tmp_path) == 0
        assert _openssl_verify(files[name] + b" ", files[seal], ca, tmp_path) != 0


def test_the_certificate_is_signed_and_readable(built: Built, tmp_path: Path) -> None:
    files = entries(built.pack)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(files["certificate.pdf"])
    assert (
        "Signature is Valid"
        in subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    records = lines(files)
    assert "Certificado de Comprovação de Notificação" in text
    assert "Maria Aparecida dos Santos Oliveira" in text and "284.197.365-46" in text
    assert "Notificação comprovada" in text and "regra R14" in text
    assert "AMBIENTE DE TESTE (SANDBOX)" in text
    flat = text.replace("\n", "").replace(" ", "")
    for record in records:
        assert record["hash"] in flat
    assert json.loads(files["manifest.json"])["checkpoint"]["root_hash"] in flat
    sealer = x509.load_pem_x509_certificates(files["certs/sealer.pem"])[0]
    assert sealer.fingerprint(hashes.SHA256()).hex() in flat


# -- tampering ----------------------------------------------------------------------------


def _pdf_path(files: dict[str, bytes]) -> str:
    return next(p for p in files if p.startswith("artifacts/") and p.endswith(".pdf"))


def test_a_changed_byte_in_a_signed_pdf_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def flip(files: dict[str, bytes]) -> None:
        path = _pdf_path(files)
        pdf = bytearray(files[path])
        pdf[len(pdf) // 3] ^= 0x01
        files[path] = bytes(pdf)

    pack = tampered(built.pack, flip)
    path = _pdf_path(entries(pack))
    report = verify_pack(pack, verifier=verifier)
    assert "SHA-256 differs" in failed(report)[path]
    # Even with the manifest "fixed", the PDF's own signature names the change.
    report = verify_pack(tampered(pack, relist), verifier=verifier)
    assert not report.ok
    assert "changed" in failed(report)[path] or "digest" in failed(report)[path]
    assert "manifest.json.p7s" in failed(report)


def test_an_edited_event_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def edit(files: dict[str, bytes]) -> None:
        records = lines(files)
        records[5]["occurred_at"] = records[5]["occurred_at"].replace(":", ";", 1)
        set_lines(files, records)

    target = lines(entries(built.pack))[5]
    report = verify_pack(tampered(built.pack, edit), verifier=verifier)
    assert "edited" in failed(report)[event_name(target)]
    assert "events.jsonl" in failed(report)


def test_an_edited_and_rehashed_event_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def forge(files: dict[str, bytes]) -> None:
        records = lines(files)
        body = {k: v for k, v in records[3].items() if k != "hash"}
        body["actor"] = "forger"
        records[3] = {**body, "hash": hashlib.sha256(jcs(body)).hexdigest()}
        set_lines(files, records)
        relist(files)

    original = lines(entries(built.pack))
    report = verify_pack(tampered(built.pack, forge), verifier=verifier)
    failures = failed(report)
    assert "does not lead to the signed root" in failures[event_name(original[3])]
    assert "missing or out of place" in failures[event_name(original[4])]
    assert "manifest.json.p7s" in failures


def test_a_dropped_event_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def drop(files: dict[str, bytes]) -> None:
        records = lines(files)
        del records[2]
        set_lines(files, records)
        relist(files)

    original = lines(entries(built.pack))
    report = verify_pack(tampered(built.pack, drop), verifier=verifier)
    failures = failed(report)
    assert "missing or out of place" in failures[event_name(original[3])]
    assert "listed in the manifest, missing" in failures[f"event {original[2]['id']}"]


def test_a_dropped_last_event_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def drop(files: dict[str, bytes]) -> None:
        set_lines(files, lines(files)[:-1])

    original = lines(entries(built.pack))
    report = verify_pack(tampered(built.pack, drop), verifier=verifier)
    assert f"event {original[-1]['id']}" in failed(report)


def test_a_duplicated_event_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def duplicate(files: dict[str, bytes]) -> None:
        records = lines(files)
        set_lines(files, [*records[:4], copy.deepcopy(records[3]), *records[4:]])

    original = lines(entries(built.pack))
    report = verify_pack(tampered(built.pack, duplicate), verifier=verifier)
    assert "appears twice" in failed(report)[event_name(original[3])]


def test_reordered_events_are_named(built: Built, verifier: OfflineVerifier) -> None:
    def swap(files: dict[str, bytes]) -> None:
        records = lines(files)
        records[3], records[4] = records[4], records[3]
        set_lines(files, records)

    original = lines(entries(built.pack))
    report = verify_pack(tampered(built.pack, swap), verifier=verifier)
    failures = failed(report)
    assert "out of ledger order" in failures[event_name(original[3])]


def test_a_replaced_checkpoint_is_named(built: Built, verifier: OfflineVerifier) -> None:
    later = entries(built.later_pack)

    def replace(files: dict[str, bytes]) -> None:
        for name in ("checkpoint/tree-head.json", "checkpoint/tree-head.p7s"):
            files[name] = later[name]  # a genuine, validly sealed head of another size

    report = verify_pack(tampered(built.pack, replace), verifier=verifier)
    failures = failed(report)
    assert "replaced" in failures["checkpoint"]
    original = lines(entries(built.pack))
    assert all("does not lead to the signed root" in failures[event_name(r)] for r in original)


def test_an_edited_checkpoint_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def edit(files: dict[str, bytes]) -> None:
        head = json.loads(files["checkpoint/tree-head.json"])
        head["root_hash"] = "00" * 32
        files["checkpoint/tree-head.json"] = jcs(head)

    report = verify_pack(tampered(built.pack, edit), verifier=verifier)
    assert "digest mismatch" in failed(report)["checkpoint"]


def test_a_swapped_certificate_is_named(
    built: Built, verifier: OfflineVerifier, tmp_path: Path
) -> None:
    other = ensure_development_pki(tmp_path / "other-pki")

    def swap(files: dict[str, bytes]) -> None:
        files["certs/sealer.pem"] = other.ca_certificate.read_bytes()

    report = verify_pack(tampered(built.pack, swap), verifier=verifier)
    assert "did not seal this pack (swapped)" in failed(report)["certs/sealer.pem"]


def test_a_pack_sealed_by_someone_else_is_untrusted(built: Built, tmp_path: Path) -> None:
    other = ensure_development_pki(tmp_path / "other-pki")
    report = verify_pack(built.pack, verifier=OfflineVerifier([other.ca()]))
    failures = failed(report)
    assert "does not chain to a trusted root" in failures["manifest.json.p7s"]
    assert "does not chain to a trusted root" in failures["checkpoint"]
    assert "certificate.pdf" in failures


def test_an_unlisted_file_is_named(built: Built, verifier: OfflineVerifier) -> None:
    def add(files: dict[str, bytes]) -> None:
        files["artifacts/extra.pdf"] = b"%PDF-1.7 planted"

    report = verify_pack(tampered(built.pack, add), verifier=verifier)
    assert "not listed in the manifest" in failed(report)["artifacts/extra.pdf"]


def test_garbage_is_a_failed_pack_not_a_crash(verifier: OfflineVerifier) -> None:
    assert "not a ZIP" in failed(verify_pack(b"garbage", verifier=verifier))["pack"]
    broken = repack({"manifest.json": b"{}"})
    assert "not a valid manifest" in failed(verify_pack(broken, verifier=verifier))["manifest.json"]


# -- case packs ----------------------------------------------------------------------------


def test_a_case_pack_covers_every_communication_of_the_case(
    tmp_path: Path,
    composer: Composer,
    sealer: CmsSealer,
    verifier: OfflineVerifier,
    notice_sample: dict[str, Any],
) -> None:
    ledger = Ledger(_engine(tmp_path))
    store = FileArtifactStore(tmp_path / "artifacts")
    reply = store.put(b"CIENTE", media_type="text/plain")
    ledger.append_many(
        [
            event("email-1", EventType.SUBMISSION_ACCEPTED, case_id="CASE-9"),
            event("sms-1", EventType.SUBMISSION_ACCEPTED, case_id="CASE-9", channel=Channel.SMS),
            event("unrelated", EventType.SUBMISSION_ACCEPTED, case_id="CASE-1"),
            event("email-1", EventType.RELAY_ACCEPTED, minutes=1),
            event(
                "sms-1",
                EventType.RECIPIENT_ACCEPTED,
                minutes=9,
                channel=Channel.SMS,
                details={"method": "reply", "keyword": "CIENTE"},
                artifacts=(
                    ArtifactRef(role="reply", sha256=reply.sha256, media_type="text/plain"),
                ),
            ),
        ]
    )
    parties = PackParties(
        operator=notice_sample["operator"],
        addressee={"name": "Maria Aparecida dos Santos Oliveira", "cpf": "28419736546",
                   "address": {"line1": "Rua das Palmeiras, 245", "district": "Vila Mariana",
                               "city": "São Paulo", "state": "SP", "postal_code": "04107-020"}},
        communications=[{"id": "email-1", "title": "Notificação por e-mail"},
                        {"id": "sms-1", "title": "Notificação por SMS"}],
    )  # fmt: skip
    pack = build_pack(
        ledger=ledger,
        store=store,
        sealer=sealer,
        subject=PackSubject(kind="case", id="CASE-9"),
        parties=parties,
        render_certificate=certificate_renderer(composer),
        created_at=datetime.now(UTC),
    )
    report = verify_pack(pack, verifier=verifier)
    assert report.ok, failed(report)
    records = lines(entries(pack))
    assert {r["communication_id"] for r in records} == {"email-1", "sms-1"}
    assert len(records) == 4
    assert report.legal_proof is not None and "rule R15" in report.legal_proof


def test_a_pack_of_nothing_is_refused(
    ledger: Ledger, built: Built, composer: Composer, sealer: CmsSealer
) -> None:
    with pytest.raises(EvidenceError, match="no evidence recorded for case 'nope'"):
        build_pack(
            ledger=ledger,
            store=built.store,
            sealer=sealer,
            subject=PackSubject(kind="case", id="nope"),
            parties=built.parties,
            render_certificate=certificate_renderer(composer),
            created_at=datetime.now(UTC),
        )


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_a_planted_second_copy_of_a_file_is_named(built: Built, verifier: OfflineVerifier) -> None:
    # unzip extracts the first copy of a duplicated name; a verifier reading the last one
    # would pass a pack whose extracted certificate is forged.
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("certificate.pdf", b"%PDF-1.7 forged")
        archive.writestr("hidden/", b"data in a directory entry")
        for name, content in entries(built.pack).items():
            archive.writestr(name, content)
    report = verify_pack(output.getvalue(), verifier=verifier)
    failures = failed(report)
    assert "appears twice in the ZIP" in failures["certificate.pdf"]
    assert "not a plain file entry" in failures["hidden/"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("checkpoint/tree-head.json", b"[1, 2]"),
        ("checkpoint/tree-head.json", b'{"schema": "ccm.evidence.tree-head/1", "root_hash": "zz"}'),
        ("proofs/inclusion.json", b'{"a": 1}'),
        ("proofs/inclusion.json", b"\xff"),
        ("events.jsonl", b'[1]\n"s"\nnull\n{"hash": 5}\n'),
        ("events.jsonl", b'{"artifacts": "abc", "index": 0, "id": "x", "hash": "y"}\n'),
        ("events.jsonl", b'{"n": NaN, "hash": "y"}\n{"n": 1152921504606846976, "hash": "y"}\n'),
    ],
)
def test_malformed_parts_fail_by_name_without_crashing(
    built: Built, verifier: OfflineVerifier, name: str, content: bytes
) -> None:
    def spoil(files: dict[str, bytes]) -> None:
        files[name] = content

    report = verify_pack(tampered(built.pack, spoil), verifier=verifier)
    assert not report.ok
    assert name in failed(report)


def test_a_pack_resealed_with_another_trusted_certificate_is_named(
    built: Built, verifier: OfflineVerifier, pki: DevelopmentPki
) -> None:
    # Someone holding another certificate under the same root (here the TSA's) re-seals
    # an edited manifest: key usage and the checkpoint's signer give it away.
    from signing import LocalTimestampAuthority

    intruder = CmsSealer(pki.tsa(), timestamper=LocalTimestampAuthority(pki.tsa()))

    def reseal(files: dict[str, bytes]) -> None:
        files["LEIA-ME.txt"] = b"forged"
        relist(files)
        files["manifest.json.p7s"] = intruder.seal(files["manifest.json"])

    failures = failed(verify_pack(tampered(built.pack, reseal), verifier=verifier))
    assert "timestamp authority's, not a document signer's" in failures["manifest.json.p7s"]
    assert "sealed by a different signer" in failures["manifest.json.p7s"]


def test_the_expected_signer_is_enforced(built: Built, verifier: OfflineVerifier) -> None:
    assert verify_pack(built.pack, verifier=verifier, signer="Document Signer").ok
    failures = failed(verify_pack(built.pack, verifier=verifier, signer="41.287.035/0001-30"))
    assert "not '41.287.035/0001-30'" in failures["manifest.json.p7s"]
    assert "not '41.287.035/0001-30'" in failures["certificate.pdf"]
