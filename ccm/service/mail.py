"""Registered letters with AR (Correios): tracking codes, print batches, AR returns.

Sending a letter puts it in the print queue with a UPU S10 tracking code from the
operator's contracted label range (rule R34). ``ccm mail export`` hands a batch to the
print house: one merged print-ready PDF and a manifest CSV that ties each tracking code
to the addressee, the page count and the SHA-256 of the signed letter, so an AR can be
reconciled with the exact content it proves. ``ccm mail import-ar`` reads the AR returns
(Correios' AR or AR Digital data, with scanned images): delivered is the legal proof, dated
with the AR's date (rule R17: whoever signed at the registered address); refused,
unknown address and not claimed are handover failures.
"""

import csv
import io
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import Engine, select, update

from ccm.errors import ChannelError, DataError, DataValidationError
from ccm.identifiers.errors import InvalidIdentifier
from ccm.identifiers.tracking import make_tracking_code, validate_tracking_code
from ccm.persistence.sequences import SqlSequenceStore
from ccm.persistence.tables import letters
from ccm.ports import ArtifactStore
from ccm.service.inbound import InboundSignal, record_signal

__all__ = [
    "AR_STATUSES",
    "ArReturn",
    "LabelRange",
    "PrintBatch",
    "export_batch",
    "import_ar",
    "queue_letter",
    "read_ar_file",
]

AR_STATUSES = {
    "delivered": None,
    "refused": "AR: recusado pelo destinatário",
    "unknown_address": "AR: endereço desconhecido ou insuficiente",
    "not_claimed": "AR: não procurado",
}
"""AR outcomes; every one but ``delivered`` is a returned letter, with its reason."""

_COUNTER_DAY = date(2000, 1, 1)  # label serials are one running counter, not daily
_BRASILIA = timezone(timedelta(hours=-3))
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                ".tif": "image/tiff", ".tiff": "image/tiff", ".pdf": "application/pdf"}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelRange:
    """The contracted tracking labels: service prefix (``RB``, ``JH``...) and serials."""

    prefix: str
    first: int
    last: int


def queue_letter(
    engine: Engine,
    labels: LabelRange,
    *,
    communication_id: str,
    addressee: Mapping[str, Any],
    pdf_sha256: str,
    now: datetime,
) -> str:
    """Queue the letter for printing (once per communication); return its tracking code.

    Raises:
        ChannelError: the label range is used up (extend it: CCM_CORREIOS_LABEL_LAST).
    """
    with engine.connect() as connection:
        known = connection.execute(
            select(letters.c.tracking_code).where(letters.c.communication_id == communication_id)
        ).scalar()
    if known is not None:  # a retry: the same letter, the same label
        return str(known)
    scope = f"s10:{labels.prefix}:{labels.first}"
    serial = labels.first - 1 + SqlSequenceStore(engine).next_value(scope, _COUNTER_DAY)
    if serial > labels.last:
        raise ChannelError(
            f"tracking labels {labels.prefix} {labels.first}-{labels.last} are used up"
        )
    code = make_tracking_code(labels.prefix, serial)
    with engine.begin() as connection:
        connection.execute(
            letters.insert().values(
                communication_id=communication_id,
                tracking_code=code,
                addressee=json.dumps(dict(addressee), ensure_ascii=False, sort_keys=True),
                pdf_sha256=pdf_sha256,
                state="queued",
                queued_at=now,
            )
        )
    return code


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintBatch:
    id: str
    letters: int
    pages: int
    pdf: bytes
    manifest_csv: bytes


_MANIFEST_COLUMNS = ["tracking_code", "service", "additional_services", "addressee_name",
                     "line1", "line2", "district", "city", "state", "postal_code", "pages",
                     "sha256", "communication_id"]  # fmt: skip


def export_batch(
    engine: Engine,
    store: ArtifactStore,
    *,
    ar_service: str,
    now: datetime,
    limit: int | None = None,
) -> PrintBatch | None:
    """The queued letters as one print batch (None when none wait), marked exported."""
    query = select(letters).where(letters.c.state == "queued").order_by(letters.c.queued_at)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return None
    writer = PdfWriter()
    manifest = io.StringIO()
    table = csv.DictWriter(manifest, fieldnames=_MANIFEST_COLUMNS, lineterminator="\r\n")
    table.writeheader()
    total = 0
    for row in rows:
        pdf = store.get(row.pdf_sha256)
        reader = PdfReader(io.BytesIO(pdf))
        pages = len(reader.pages)
        writer.append(reader)
        if pages % 2:  # duplex: each letter starts on a new sheet
            writer.add_blank_page()
        total += pages
        who = json.loads(row.addressee)
        table.writerow(
            {
                "tracking_code": row.tracking_code,
                "service": row.tracking_code[:2],
                "additional_services": ar_service,
                "addressee_name": who.get("name", ""),
                **{k: who.get(k, "") for k in ("line1", "line2", "district", "city", "state")},
                "postal_code": who.get("postal_code", ""),
                "pages": pages,
                "sha256": row.pdf_sha256,
                "communication_id": row.communication_id,
            }
        )
    merged = io.BytesIO()
    writer.write(merged)
    batch_id = f"imp_{now:%Y%m%d}_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(
            update(letters)
            .where(letters.c.communication_id.in_([r.communication_id for r in rows]))
            .values(state="exported", batch_id=batch_id, exported_at=now)
        )
    return PrintBatch(
        id=batch_id,
        letters=len(rows),
        pages=total,
        pdf=merged.getvalue(),
        manifest_csv=manifest.getvalue().encode("utf-8"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ArReturn:
    row: int
    tracking_code: str
    status: str
    on: date
    receiver_name: str
    receiver_document: str
    image: Path | None


_AR_COLUMNS = ("tracking_code", "status", "date", "receiver_name", "receiver_document")


def read_ar_file(text: str, *, images: Path | None) -> list[ArReturn]:
    """Parse and check an AR return file; every problem is reported, none is skipped.

    Columns: ``tracking_code, status, date, receiver_name, receiver_document`` (the last
    two may be empty when the letter came back). ``status``: delivered, refused,
    unknown_address, not_claimed. ``date``: YYYY-MM-DD. Images, when given, are
    ``<tracking_code>.<jpg|png|tif|pdf>`` in ``images``.

    Raises:
        DataValidationError: each bad row and field (``row 3.status``...).
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _AR_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataValidationError(
            [DataError(path="header", message=f"missing columns: {', '.join(missing)}")]
        )
    errors: list[DataError] = []
    found: list[ArReturn] = []
    seen: set[str] = set()
    for number, line in enumerate(reader, start=2):  # line 1 is the header
        where = f"row {number}"
        try:
            code = validate_tracking_code(line["tracking_code"] or "")
        except InvalidIdentifier as error:
            errors.append(DataError(path=f"{where}.tracking_code", message=str(error)))
            continue
        if code in seen:
            errors.append(DataError(path=f"{where}.tracking_code", message="appears twice"))
        seen.add(code)
        status = (line["status"] or "").strip().lower()
        if status not in AR_STATUSES:
            errors.append(
                DataError(
                    path=f"{where}.status", message=f"must be one of {', '.join(AR_STATUSES)}"
                )
            )
        try:
            on = date.fromisoformat((line["date"] or "").strip())
        except ValueError:
            errors.append(DataError(path=f"{where}.date", message="must be a date YYYY-MM-DD"))
            continue
        name = (line["receiver_name"] or "").strip()
        if status == "delivered" and not name:
            errors.append(
                DataError(path=f"{where}.receiver_name", message="required when delivered")
            )
        image = None
        if images is not None:
            matches = [p for p in images.glob(f"{code}.*") if p.suffix.lower() in _IMAGE_TYPES]
            image = matches[0] if matches else None
        found.append(
            ArReturn(
                row=number,
                tracking_code=code,
                status=status,
                on=on,
                receiver_name=name,
                receiver_document=(line["receiver_document"] or "").strip(),
                image=image,
            )
        )
    if errors:
        raise DataValidationError(errors)
    return found


def import_ar(
    engine: Engine, store: ArtifactStore, returns: Iterable[ArReturn], *, now: datetime
) -> list[str]:
    """Record each AR as a signal of its letter; return the communication ids.

    Raises:
        DataValidationError: a tracking code of no letter ccm sent (nothing is recorded).
    """
    returns = list(returns)
    with engine.connect() as connection:
        known = set(
            connection.execute(
                select(letters.c.tracking_code).where(
                    letters.c.tracking_code.in_([r.tracking_code for r in returns])
                )
            ).scalars()
        )
    unknown = [r for r in returns if r.tracking_code not in known]
    if unknown:
        raise DataValidationError(
            [
                DataError(path=f"row {r.row}.tracking_code", message="no letter sent by ccm")
                for r in unknown
            ]
        )
    recorded = []
    for item in returns:
        details: dict[str, str] = {"tracking_code": item.tracking_code}
        if item.image is not None:
            kind = _IMAGE_TYPES[item.image.suffix.lower()]
            image = store.put(item.image.read_bytes(), media_type=kind)
            details |= {
                "image_sha256": image.sha256,
                "image_media_type": kind,
            }
        reason = AR_STATUSES[item.status]
        if reason is not None:
            details["reason"] = reason
        record = {
            "tracking_code": item.tracking_code,
            "status": item.status,
            "date": item.on.isoformat(),
            "receiver_name": item.receiver_name,
            "receiver_document": item.receiver_document,
            "image_sha256": details.get("image_sha256"),
        }
        signal = InboundSignal(
            channel="registered_mail",
            provider="correios",
            provider_message_id=item.tracking_code,
            kind="ar" if reason is None else "bounce",
            raw=json.dumps(record, ensure_ascii=False, sort_keys=True).encode(),
            media_type="application/json",
            details=details,
            # Rule R17: the AR's date is the date of notification (noon, Brasília time).
            occurred_at=datetime.combine(item.on, time(12), tzinfo=_BRASILIA).astimezone(UTC),
        )
        communication_id = record_signal(engine, store, signal, now=now)
        assert communication_id is not None  # checked above
        recorded.append(communication_id)
    return recorded
