"""The IVR call procedure: where each call is in its script, and what it proves.

The script (rendered from the template's ``voice`` variant when the call is placed) is
played in a fixed order: greeting, "this call is recorded", the identity check by
keypad (the manifest's items, e.g. the first three and last two CPF digits and the birth
year, with a limited number of rounds), then, only once every item matched, the notice
and the options (1 repeat, 2 dispute the debt, 3 an attendant).

What the person types is compared with the expected digits and forgotten: the call keeps
only which item was asked and whether the round matched. For the same reason the
recording starts only after the identity check passed, so the keypad tones of the
check are never in it; the recording holds the notice and the options, and the call's
log (items asked, rounds, times; signed into the evidence with it) records the check.

What the call proves (rule R16, an interpretation stated here): the identity confirmed
**and** the notice played to its end (the options prompt was reached) **and** the
recording stored. A call that was not answered, failed the check or ended during the
notice is a failed attempt on the IVR channel; confirmed without a recording is recorded
and says why it is no proof. An option 2 is a dispute, recorded at once.

This module knows nothing of Twilio: it returns what to play (:data:`Plan`) and which
signals to record; ``api/routes/voice.py`` turns plans into TwiML.
"""

import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection, Row

from ccm.composition.scripts import IDENTITY_ITEMS
from ccm.identifiers.cpf import normalize_cpf
from ccm.persistence.tables import ivr_calls
from ccm.service.communications import CommunicationRecord, utc
from ccm.service.inbound import InboundSignal

__all__ = [
    "FINAL_CALL_STATUSES",
    "Ask",
    "HangUp",
    "IvrCall",
    "Plan",
    "Say",
    "Stage",
    "StartRecording",
    "Transfer",
    "answer",
    "call_state",
    "call_status",
    "expected_identity",
    "identity",
    "mark_concluded",
    "open_call",
    "option",
    "recording_status",
    "set_call_sid",
]

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MAX_NOTICE_PLAYS = 3
"""How many times option 1 may repeat the notice before the call says goodbye."""
_PROVIDER = "twilio"


class Stage(StrEnum):
    NEW = "new"
    IDENTITY = "identity"
    NOTICE = "notice"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Ask:
    """Wait for ``digits`` keypad digits while playing ``prompt``; the answer (possibly
    empty, on timeout) goes to the ``identity`` or ``options`` step."""

    step: str
    digits: int
    prompt: str


@dataclass(frozen=True, slots=True)
class StartRecording:
    pass


@dataclass(frozen=True, slots=True)
class Transfer:
    number: str


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


Plan = list[Say | Ask | StartRecording | Transfer | HangUp]


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrCall:
    token: str
    communication_id: str
    call_sid: str | None
    script: Mapping[str, Any]
    stage: Stage


def open_call(
    engine: Engine,
    *,
    communication_id: str,
    idempotency_key: str,
    script: Mapping[str, Any],
    now: datetime,
) -> IvrCall:
    """The call for ``idempotency_key``: a new one, or the one opened before (a retry
    finds its ``call_sid`` when the provider had placed it)."""
    with engine.begin() as connection:
        found = connection.execute(
            select(ivr_calls).where(ivr_calls.c.idempotency_key == idempotency_key)
        ).first()
        if found is None:
            token = secrets.token_urlsafe(18)
            connection.execute(
                ivr_calls.insert().values(
                    token=token,
                    communication_id=communication_id,
                    idempotency_key=idempotency_key,
                    script=json.dumps(script, ensure_ascii=False, sort_keys=True),
                    stage=Stage.NEW,
                    item_index=0,
                    mismatch=0,
                    rounds_failed=0,
                    notice_plays=0,
                    concluded=0,
                    log="[]",
                    created_at=now,
                    updated_at=now,
                )
            )
            found = connection.execute(select(ivr_calls).where(ivr_calls.c.token == token)).one()
    return _call(found)


def set_call_sid(engine: Engine, token: str, call_sid: str, *, now: datetime) -> None:
    """Remember the provider's id of the call (it names the call in every signal)."""
    with engine.begin() as connection:
        connection.execute(
            update(ivr_calls)
            .where(ivr_calls.c.token == token, ivr_calls.c.call_sid.is_(None))
            .values(call_sid=call_sid, updated_at=now)
        )


def mark_concluded(engine: Engine, token: str, *, now: datetime) -> None:
    """The call's conclusion is recorded: later callbacks add nothing."""
    with engine.begin() as connection:
        connection.execute(
            update(ivr_calls).where(ivr_calls.c.token == token).values(concluded=1, updated_at=now)
        )


def call_state(engine: Engine, token: str) -> IvrCall | None:
    with engine.connect() as connection:
        row = _row(connection, token)
    return None if row is None else _call(row)


def expected_identity(record: CommunicationRecord, items: Sequence[str]) -> dict[str, str]:
    """The digits the person must type for each item, from the request (held in memory
    only, for the comparison).

    Raises:
        ValueError: an item has nothing to compare with (no CPF, no birth date).
    """
    cpf = normalize_cpf(str(record.recipient.get("cpf") or ""))
    payer = record.data.get("payer") or {}
    born = record.recipient.get("birth_date") or payer.get("birth_date")
    birth = date.fromisoformat(str(born)) if born else None
    values: dict[str, str] = {}
    for item in items:
        if item.startswith("cpf") and len(cpf) != 11:
            raise ValueError(f"identity item {item} needs recipient.cpf")
        if item.startswith("birth") and birth is None:
            raise ValueError(f"identity item {item} needs data.payer.birth_date")
        values[item] = {
            "cpf_prefix": lambda: cpf[:3],
            "cpf_suffix": lambda: cpf[-2:],
            "birth_year": lambda: f"{birth:%Y}",
            "birth_date": lambda: f"{birth:%d%m%Y}",
        }[item]()
    return values


def answer(engine: Engine, token: str, *, call_sid: str, now: datetime) -> Plan:
    """The call was answered: greet, say it is recorded, start the identity check."""
    with engine.begin() as connection:
        row = _locked(connection, token)
        script = json.loads(row.script)
        if row.stage != Stage.NEW:  # Twilio fetched the first document again
            return _again(row, script)
        _save(
            connection,
            row,
            now,
            "answered",
            stage=Stage.IDENTITY,
            call_sid=row.call_sid or call_sid,
        )
    steps = script["steps"]
    return [
        Say(steps["greeting"]),
        Say(steps["recording_notice"]),
        Say(steps["identity_intro"]),
        *_first_item(script),
    ]


def identity(
    engine: Engine, token: str, digits: str, expected: Mapping[str, str], *, now: datetime
) -> Plan:
    """One identity item answered (``digits`` empty on timeout): ask the next one, or
    judge the round: the notice when every item matched, another round, or goodbye."""
    with engine.begin() as connection:
        row = _locked(connection, token)
        script = json.loads(row.script)
        items = script["identity_items"]
        if row.stage != Stage.IDENTITY:
            return _again(row, script)
        item = items[row.item_index]
        matched = hmac.compare_digest(digits.encode(), expected[item].encode())
        mismatch = bool(row.mismatch) or not matched
        if row.item_index + 1 < len(items):
            _save(connection, row, now, None, item_index=row.item_index + 1, mismatch=mismatch)
            return [_ask(script, items[row.item_index + 1])]
        round_number = row.rounds_failed + 1
        if not mismatch:
            _save(
                connection,
                row,
                now,
                "identity_confirmed",
                facts={"round": round_number, "items": ",".join(items)},
                stage=Stage.NOTICE,
                confirmed_at=now,
                notice_plays=1,
            )
            return [StartRecording(), *_notice(script)]
        failed = round_number >= int(script["max_attempts"])
        _save(
            connection,
            row,
            now,
            "identity_not_confirmed",
            facts={"round": round_number},
            stage=Stage.ENDED if failed else Stage.IDENTITY,
            item_index=0,
            mismatch=False,
            rounds_failed=round_number,
        )
    if failed:
        return [Say(script["steps"]["identity_failed"]), HangUp()]
    return [Say(script["steps"]["identity_intro"]), *_first_item(script)]


def option(
    engine: Engine, token: str, digits: str, *, transfer_to: str | None, now: datetime
) -> tuple[Plan, list[InboundSignal]]:
    """The options prompt was reached, so the notice was played to its end; then
    1 repeats it, 2 records a dispute, 3 transfers to an attendant, nothing says goodbye."""
    with engine.begin() as connection:
        row = _locked(connection, token)
        script = json.loads(row.script)
        steps = script["steps"]
        if row.stage == Stage.ENDED:  # a repeated request: the dispute again, if it was one
            return [HangUp()], _dispute(row)
        if row.stage != Stage.NOTICE:
            return _again(row, script), []
        completed: dict[str, Any] = (
            {"notice_completed_at": now} if row.notice_completed_at is None else {}
        )
        choice = digits[:1]
        if choice == "1" and row.notice_plays < MAX_NOTICE_PLAYS:
            _save(
                connection,
                row,
                now,
                "notice_repeated",
                notice_plays=row.notice_plays + 1,
                **completed,
            )
            return _notice(script), []
        event = {"2": "dispute", "3": "transfer_requested"}.get(choice, "goodbye")
        _save(connection, row, now, event, stage=Stage.ENDED, **completed)
        signals = _dispute(_locked(connection, token))  # the log just written
        if choice == "3" and transfer_to:
            return [Say(steps["transfer"]), Transfer(transfer_to)], signals
        if choice == "2":
            return [Say(steps["dispute_recorded"]), Say(steps["goodbye"]), HangUp()], signals
        return [Say(steps["goodbye"]), HangUp()], signals


def call_status(
    engine: Engine, token: str, status: str, *, call_sid: str, now: datetime, raw: bytes
) -> list[InboundSignal]:
    """The call's progress: answered is the hand-over; a final status may conclude it."""
    with engine.begin() as connection:
        row = _locked(connection, token)
        sid = row.call_sid or call_sid
        final = status in FINAL_CALL_STATUSES and row.call_status is None
        if final or not row.call_sid:
            facts = {"status": status}
            values = {"call_status": status} if final else {}
            _save(
                connection,
                row,
                now,
                "call_ended" if final else None,
                facts=facts,
                call_sid=sid,
                **values,
            )
    if status in {"in-progress", "answered"} and sid:
        handed_over = InboundSignal(
            channel="ivr",
            provider=_PROVIDER,
            provider_message_id=sid,
            kind="delivered",
            raw=raw,
            media_type="application/json",
            details={},
            occurred_at=now,
        )
        return [handed_over]
    return _conclude(engine, token, now) if status in FINAL_CALL_STATUSES else []


def recording_status(
    engine: Engine, token: str, recording_sid: str, status: str, *, now: datetime
) -> list[InboundSignal]:
    """The recording is ready (``completed``) or will never be (``absent``, ``failed``)."""
    if status not in {"completed", "absent", "failed"}:
        return []
    with engine.begin() as connection:
        row = _locked(connection, token)
        if row.recording_status is None:
            _save(
                connection,
                row,
                now,
                f"recording_{status}",
                recording_sid=recording_sid or None,
                recording_status=status,
            )
    return _conclude(engine, token, now)


# -- internals -------------------------------------------------------------------------


def _conclude(engine: Engine, token: str, now: datetime) -> list[InboundSignal]:
    """Once the call has ended and its recording is settled, what it proves (once)."""
    with engine.begin() as connection:
        row = _locked(connection, token)
        waiting_for_recording = row.confirmed_at is not None and row.recording_status is None
        # Not marked concluded here: the signal built from the settled row is the same
        # bytes whoever builds it, so recording it twice records it once, and a failure
        # before it is recorded leaves the next callback (or Twilio's retry) to do it.
        if row.concluded or row.call_status is None or waiting_for_recording:
            return []
        if not row.call_sid:
            return []
        script = json.loads(row.script)
        items = script["identity_items"]
        record = {
            "call_sid": row.call_sid,
            "template": script["template"],
            "identity_items": items,
            "call_status": row.call_status,
            "recording_sid": row.recording_sid,
            "log": json.loads(row.log),
        }
        details = {"attempt": str(row.rounds_failed + 1), "identity_items": ",".join(items)}
        if row.notice_completed_at is not None:
            if row.recording_status == "completed" and row.recording_sid:
                details["recording_sid"] = row.recording_sid
            else:
                details["reason"] = f"recording {row.recording_status or 'missing'}"
            at = utc(row.notice_completed_at)
            return [_signal(row, "call_confirmed", record, details, at)]
        if row.confirmed_at is not None:
            reason = "the call ended before the notice was played to its end"
        elif row.rounds_failed >= int(script["max_attempts"]):
            reason = f"identity not confirmed after {row.rounds_failed} rounds"
        elif row.call_status != "completed":
            reason = f"call {row.call_status}"
        else:
            reason = "the call ended before the identity was confirmed"
        ended = [e["at"] for e in record["log"] if e["event"] == "call_ended"]
        at = datetime.fromisoformat(ended[0]) if ended else now
        return [_signal(row, "call_failed", record, {"reason": reason}, at)]


def _signal(
    row: Row[Any], kind: str, record: Mapping[str, Any], details: dict[str, str], at: datetime
) -> InboundSignal:
    return InboundSignal(
        channel="ivr",
        provider=_PROVIDER,
        provider_message_id=str(row.call_sid),
        kind=kind,
        raw=json.dumps(record, ensure_ascii=False, sort_keys=True).encode(),
        media_type="application/json",
        details=details,
        occurred_at=at,
    )


def _dispute(row: Row[Any]) -> list[InboundSignal]:
    """The dispute a call's log records (the same signal however often it is asked)."""
    for entry in json.loads(row.log):
        if entry["event"] == "dispute":
            at = datetime.fromisoformat(entry["at"])
            record = {"call_sid": row.call_sid, "option": "2", "at": entry["at"]}
            return [_signal(row, "dispute", record, {"keyword": "2", "method": "ivr"}, at)]
    return []


def _again(row: Row[Any], script: Mapping[str, Any]) -> Plan:
    """What to play for a repeated or out-of-order request: where the call stands."""
    if row.stage == Stage.ENDED:
        return [HangUp()]
    if row.stage == Stage.NOTICE:
        return _notice(script)
    return [_ask(script, script["identity_items"][row.item_index])]


def _call(row: Row[Any]) -> IvrCall:
    return IvrCall(
        token=row.token,
        communication_id=row.communication_id,
        call_sid=row.call_sid,
        script=json.loads(row.script),
        stage=Stage(row.stage),
    )


def _row(connection: Connection, token: str) -> Row[Any] | None:
    return connection.execute(select(ivr_calls).where(ivr_calls.c.token == token)).first()


def _locked(connection: Connection, token: str) -> Row[Any]:
    """The call's row, locked for this transaction (the first statement of it): Twilio's
    callbacks for one call arrive together, and each rewrites the call's log."""
    query = select(ivr_calls).where(ivr_calls.c.token == token)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    elif not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: take the write lock now
    row = connection.execute(query).first()
    if row is None:
        raise LookupError(f"no IVR call {token}")
    return row


def _save(
    connection: Connection,
    row: Row[Any],
    now: datetime,
    event: str | None,
    *,
    facts: Mapping[str, Any] | None = None,
    **values: Any,
) -> None:
    log = json.loads(row.log)
    if event:
        log.append({"at": now.isoformat(), "event": event, **(facts or {})})
    if "mismatch" in values:
        values["mismatch"] = int(values["mismatch"])
    connection.execute(
        update(ivr_calls)
        .where(ivr_calls.c.token == row.token)
        .values(log=json.dumps(log), updated_at=now, **values)
    )


def _ask(script: Mapping[str, Any], item: str) -> Ask:
    return Ask("identity", IDENTITY_ITEMS[item], script["steps"][f"identity_{item}"])


def _first_item(script: Mapping[str, Any]) -> Plan:
    return [_ask(script, script["identity_items"][0])]


def _notice(script: Mapping[str, Any]) -> Plan:
    steps = script["steps"]
    return [Say(steps["notice"]), Ask("options", 1, steps["options"])]
