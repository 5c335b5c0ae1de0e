"""Running the escalation ladder of each open RN 593 case (see :mod:`ccm.rn593.ladder`).

:meth:`CaseLadder.advance` looks at one case now: it opens disputes raised on any
channel, evaluates the clock, and then either closes the case (paid: pending attempts
cancelled and the cancellation recorded), marks it proved (the ladder stops; attempts
not sent yet are cancelled), pauses (a dispute open, an active agreement, not covered,
not yet two unpaid installments), records that attempts are exhausted, or launches the
attempts due. Each attempt is one communication of the delinquency notice on one
channel, addressed to the payer only (R12) with contact data of recorded provenance only
(R13), sent by the pipeline outside the quiet hours, and never more than the frequency
caps allow (R22).

Safe to run from several workers at once: a launch is a communication submitted with an
idempotency key of its own (case, step, slot, channel, round), and the attempt row is
unique. A case whose attempts were exhausted stays so until an import brings new contact
data; the ladder then runs again from its first step as a new round (the caps count the
earlier rounds' sends too).
"""

import json
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from ccm.errors import CCMError, DataError, DataValidationError
from ccm.evidence.events import Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.persistence.tables import case_attempts, cases, communications, deliveries, jobs
from ccm.rn593.casefile import CaseFile
from ccm.rn593.clock import Block, Evaluation, evaluate, unpaid_at
from ccm.rn593.ladder import CHANNEL_NEEDS, AttemptSeen, LadderProfile, Launch, exhausted, plan
from ccm.service.case_clock import attempt_outcomes, evaluate_case
from ccm.service.cases import (
    ACTIVE_STATES,
    CaseAttempt,
    CaseState,
    StoredCase,
    active_case_ids,
    case_event,
    get_case,
    local_date,
)
from ccm.service.communications import Status, SubmitRequest, submit
from ccm.service.templates import TemplateCatalog

__all__ = ["LADDER_SUBMITTER", "CaseLadder", "notice_data"]

log = logging.getLogger("ccm.ladder")

LADDER_SUBMITTER = "rn593-ladder"
"""Who submits the ladder's communications (as ``submitted_by``)."""
_PAUSED_BY = {Block.NOT_COVERED, Block.DISPUTE_OPEN, Block.AGREEMENT_ACTIVE}
_NOT_YET = _PAUSED_BY | {Block.FEWER_THAN_TWO_UNPAID}
_UNSENT_JOBS = ("pending", "enqueued")


def _now() -> datetime:
    return datetime.now(UTC)


def notice_data(file: CaseFile, profile: LadderProfile, at: date) -> dict[str, Any]:
    """The delinquency notice's data for the case issued on ``at``.

    The deadline printed is the issue date + the payment window; the clock's deadline
    (proof date + window) is never earlier, so the notice never promises less time.
    """
    case = file.case
    contacts = file.contacts
    payer: dict[str, Any] = {"name": case.payer.name, "cpf": case.payer.cpf}
    if contacts.email and contacts.email.usable:  # R13: contacts of known origin only
        payer["email"] = contacts.email.value
    if contacts.phone and contacts.phone.usable:
        payer["phone"] = contacts.phone.value
    if contacts.address:  # printed on the notice (content); letters go only to a usable one
        payer["address"] = contacts.address.value.model_dump(exclude_none=True)
    if file.payer_birth_date:
        payer["birth_date"] = file.payer_birth_date.isoformat()
    unpaid = [i for i in case.installments if unpaid_at(i, at)]
    return {
        "operator": dict(profile.operator),
        "payer": payer,
        "beneficiaries": [b.model_dump() for b in file.beneficiaries],
        "plan": {
            "name": file.plan.name,
            "ans_product_number": file.plan.ans_product_number,
            "contract_number": case.contract.id,
            "type": str(case.contract.type),
        },
        "installments": [
            {
                "competence": i.competence,
                "due_date": i.due_date.isoformat(),
                "amount": f"{i.amount:.2f}",
                "updated_amount": f"{i.amount:.2f}",  # R23: no fine or interest by default
            }
            for i in unpaid
        ],
        "issue_date": at.isoformat(),
        "payment": {
            "deadline": (at + timedelta(days=profile.policy.payment_window_days)).isoformat(),
            "pix_key": profile.pix_key,
        },
    }


def _canonical(value: Any) -> str:
    """A contact value as compared between rounds (an address as sorted JSON)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def _contact_value(stored: StoredCase, need: str) -> str:
    contact = getattr(stored.file.contacts, need)
    if need == "address":
        return _canonical(contact.value.model_dump(exclude_none=True))
    return _canonical(contact.value)


class CaseLadder:
    """Advances open cases; one per process, called by the worker runtime's timer."""

    def __init__(
        self,
        *,
        engine: Engine,
        catalog: TemplateCatalog,
        ledger: Ledger,
        channels: Collection[str],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._ledger = ledger
        self._channels = frozenset(channels)
        self._clock = clock

    def check(self, files: Sequence[CaseFile], profile: LadderProfile, today: date) -> None:
        """Compose (without sending) the notice of each case that needs one today, so a
        file whose notices the template would refuse is refused at import, not skipped
        later.

        Raises:
            DataValidationError: ``cases[i].notice.<path>`` for each problem.
        """
        problems = []
        composer = self._catalog.current(profile.template)
        for index, file in enumerate(files):
            evaluation = evaluate(file.case, today, profile.policy)
            if not evaluation.notice_required or set(evaluation.blocks) & _NOT_YET:
                continue
            try:
                composer.prepare(
                    profile.template, notice_data(file, profile, today), locale=profile.locale
                )
            except DataValidationError as error:
                problems += [
                    DataError(
                        path=f"cases[{index}].notice.{e.path}",
                        message=f"contract {file.case.contract.id}: {e.message}",
                    )
                    for e in error.errors
                ]
        if problems:
            raise DataValidationError(problems)

    def tick(self) -> int:
        """Advance every case still watched; return how many were looked at. Each case is
        read when its turn comes, not at the start of the tick (another worker or an
        import may have moved it meanwhile)."""
        watched = active_case_ids(self._engine)
        for case_id in watched:
            try:
                self._step(self._case(case_id))
            except Exception:  # noqa: BLE001 - one broken case must not stop the others
                log.exception("advancing case %s failed", case_id)
        return len(watched)

    def advance(self, case_id: str, stored: StoredCase | None = None) -> StoredCase:
        """Look at the case now and do what is due (``stored``: the case as just read);
        return the case as it is afterwards.

        Raises:
            LookupError: no such case.
        """
        self._step(stored or self._case(case_id))
        return self._case(case_id)

    def _step(self, stored: StoredCase) -> None:
        """Do what is due now for the case as read."""
        if stored.state not in ACTIVE_STATES:
            return
        now = self._clock()
        today = local_date(now)
        evaluation = evaluate_case(self._engine, self._ledger, stored, today)
        settled = all(
            i.paid_on is not None and i.paid_on <= today for i in stored.file.case.installments
        )
        was_overdue = (
            stored.started_at is not None
            or stored.round > 0
            or any(i.paid_on is not None for i in stored.file.case.installments)
        )
        if settled or (Block.PAID in evaluation.blocks and was_overdue):
            self._close_paid(stored, now)  # what is still open is not due yet
        elif Block.PAID in evaluation.blocks:  # never overdue yet: nothing to do
            pass
        elif evaluation.proof.proven:
            self._proved(stored, evaluation, now)
        elif _PAUSED_BY & set(evaluation.blocks):
            pass
        elif stored.state is CaseState.EXHAUSTED:
            if self._restart(stored, now):  # new contact data: a new round at once
                self._step(self._case(stored.id))
        elif evaluation.notice_required and Block.FEWER_THAN_TWO_UNPAID not in evaluation.blocks:
            self._climb(stored, evaluation, now)

    # -- outcomes ----------------------------------------------------------------------

    def _close_paid(self, stored: StoredCase, now: datetime) -> None:
        # The state first: a worker that read the case before sees it moved and stops;
        # then every attempt launched until now, read afresh, is cancelled.
        if self._set_state(stored, CaseState.PAID, now, closed_at=now, open_contract=None):
            fresh = self._case(stored.id)
            cancelled = self._cancel_unsent(fresh, "the debt was paid; the ladder stopped", now)
            case_event(
                self._ledger,
                stored.id,
                EventType.CANCELLED,
                occurred_at=now,
                actor="ccm",
                reasons=(
                    "the debt was paid: the ladder stopped"
                    + (f" and {cancelled} pending attempt(s) were cancelled" if cancelled else ""),
                ),
                details={"method": "payment"},
            )

    def _proved(self, stored: StoredCase, evaluation: Evaluation, now: datetime) -> None:
        if stored.state is CaseState.PROVED:
            return
        if self._set_state(stored, CaseState.PROVED, now, proved_at=now):
            evidence = ", ".join(evaluation.proof.evidence_ids)
            reason = f"the notice is proved (evidence {evidence})"
            self._cancel_unsent(self._case(stored.id), reason, now)

    def _climb(self, stored: StoredCase, evaluation: Evaluation, now: datetime) -> None:
        seen = self._attempts_seen(stored)
        launches = plan(
            stored.profile,
            seen,
            started_at=stored.started_at,
            now=now,
            today=local_date(now),
            notify_by=evaluation.notify_by,
            usable=self._usable(stored),
        )
        if not launches:
            if seen and exhausted(stored.profile, seen, now=now):
                if self._restart(stored, now):  # contact data no attempt tried: go on
                    self._climb(self._case(stored.id), evaluation, now)
                else:
                    self._exhausted(stored, seen, now)
            return
        allowed = self._within_caps(stored, launches, now)
        for launch in allowed:
            self._launch(stored, launch, evaluation, now)
        # The ladder's clock starts at its first step, even one only skipped (an open case
        # has not started: a new round reopens it with no start).
        if allowed and stored.state is CaseState.OPEN and stored.started_at is None:
            self._set_state(stored, CaseState.NOTIFYING, now, started_at=now)

    def _exhausted(self, stored: StoredCase, seen: list[AttemptSeen], now: datetime) -> None:
        if not self._set_state(stored, CaseState.EXHAUSTED, now):
            return
        waited = f" (no proof within {stored.profile.give_up_after.days} days)"
        case_event(
            self._ledger,
            stored.id,
            EventType.ATTEMPTS_EXHAUSTED,
            occurred_at=now,
            actor="ccm",
            reasons=[
                f"round {stored.round + 1} step {a.step + 1} {a.channel}: {a.outcome}"
                + (waited if a.outcome == "open" else "")
                for a in seen
            ],
            details={"method": "ladder"},
        )

    # -- helpers -----------------------------------------------------------------------

    def _case(self, case_id: str) -> StoredCase:
        stored = get_case(self._engine, case_id)
        if stored is None:
            raise LookupError(case_id)
        return stored

    def _usable(self, stored: StoredCase) -> dict[str, str | None]:
        """For each channel, ``None`` when the ladder may use it now, else why not. A round
        after the first uses only contact data no earlier round tried."""
        usable = self._contactable(stored)
        if stored.round:
            tried = self._tried(stored, before_round=stored.round)
            for channel, reason in usable.items():
                need = CHANNEL_NEEDS[channel]
                if reason is None and _contact_value(stored, need) in tried[need]:
                    usable[channel] = f"this {need} was already tried in an earlier round"
        return usable

    def _restart(self, stored: StoredCase, now: datetime) -> bool:
        """Start a new round of the ladder if the case has an e-mail, phone or address
        no attempt was sent to (imported since); whether it did. The round's clock starts
        again, so steps already due (``notify_by`` near) are launched at once, on the new
        data only."""
        tried = self._tried(stored, before_round=stored.round + 1)
        in_steps = {
            channel
            for step in stored.profile.steps
            for slot in step.channels
            for channel in slot.split("|")
        }
        fresh = sorted(
            {
                need
                for channel, reason in self._contactable(stored).items()
                if channel in in_steps
                and reason is None
                and _contact_value(stored, need := CHANNEL_NEEDS[channel]) not in tried[need]
            }
        )
        if not fresh:
            return False
        moved = self._set_state(
            stored, CaseState.OPEN, now, round=stored.round + 1, started_at=None
        )
        if moved:
            case_event(
                self._ledger,
                stored.id,
                EventType.SUBMISSION_ACCEPTED,
                occurred_at=now,
                actor="ccm",
                reasons=(
                    f"contact data no attempt tried ({', '.join(fresh)}): round "
                    f"{stored.round + 2} of the ladder uses it, and only it",
                ),
                details={"method": "ladder_round"},
            )
        return moved

    def _tried(self, stored: StoredCase, *, before_round: int) -> dict[str, set[str]]:
        """For each kind of contact (e-mail, phone, address), the values the attempts of
        rounds before ``before_round`` were sent to, on any channel."""
        sent = {
            a.communication_id: a.channel
            for a in stored.attempts
            if a.communication_id and a.state == "launched" and a.round < before_round
        }
        tried: dict[str, set[str]] = {need: set() for need in CHANNEL_NEEDS.values()}
        with self._engine.connect() as connection:
            for row in connection.execute(
                select(communications.c.id, communications.c.recipient).where(
                    communications.c.id.in_(list(sent))
                )
            ):
                need = CHANNEL_NEEDS[sent[row.id]]
                tried[need].add(_canonical(json.loads(row.recipient).get(need)))
        return tried

    def _contactable(self, stored: StoredCase) -> dict[str, str | None]:
        """For each channel, ``None`` when the case's contact data allows it, else why not."""
        contacts = stored.file.contacts
        usable: dict[str, str | None] = {}
        for channel, need in CHANNEL_NEEDS.items():
            contact = getattr(contacts, need)
            if channel not in self._channels:
                usable[channel] = "no provider configured"
            elif contact is None:
                usable[channel] = f"no {need} on file"
            elif not contact.usable:
                usable[channel] = (
                    f"the {need} has no recorded provenance from the contractor or the payer "
                    "(rule R13)"
                )
            elif channel == "ivr" and stored.file.payer_birth_date is None:
                usable[channel] = "no birth date to confirm identity on the call (rule R16)"
            else:
                usable[channel] = None
        return usable

    def _attempts_seen(self, stored: StoredCase) -> list[AttemptSeen]:
        outcomes = attempt_outcomes(self._engine, stored)
        return [
            AttemptSeen(
                step=a.step,
                slot=a.slot,
                channel=a.channel,
                launched_at=a.created_at,
                outcome=outcome if outcome in {"failed", "skipped", "cancelled"} else "open",
            )
            for a, outcome in zip(stored.attempts, outcomes, strict=True)
            if a.round == stored.round
        ]

    def _within_caps(
        self, stored: StoredCase, launches: list[Launch], now: datetime
    ) -> list[Launch]:
        """The launches the frequency caps allow now (R22); the rest wait for a later tick.
        Skips send nothing and are never held back."""
        caps = stored.profile.caps
        sent = [a.created_at for a in stored.attempts if a.state == "launched"]
        day = sum(1 for at in sent if at > now - timedelta(days=1))
        week = sum(1 for at in sent if at > now - timedelta(days=7))
        allowed = []
        for launch in launches:
            if launch.skip is None:
                if day >= caps.per_day or week >= caps.per_week:
                    log.info(
                        "case %s: step %d %s held by the frequency caps",
                        stored.id,
                        launch.step + 1,
                        launch.channel,
                    )
                    continue
                day, week = day + 1, week + 1
            allowed.append(launch)
        return allowed

    def _launch(
        self, stored: StoredCase, launch: Launch, evaluation: Evaluation, now: datetime
    ) -> bool:
        """Send one attempt (or record why it is skipped); whether something was sent."""
        communication_id, note = None, launch.skip
        if note is None:
            try:
                communication_id = self._submit(stored, launch, evaluation, now)
            except CCMError as error:
                note = f"not sent: {error}"
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    case_attempts.insert().values(
                        case_id=stored.id,
                        round=stored.round,
                        step=launch.step,
                        slot=launch.slot,
                        channel=launch.channel,
                        state="launched" if communication_id else "skipped",
                        communication_id=communication_id,
                        note=note[:1000] if note else None,
                        created_at=now,
                    )
                )
        except IntegrityError:  # another worker recorded this attempt first
            return False
        return communication_id is not None

    def _submit(
        self, stored: StoredCase, launch: Launch, evaluation: Evaluation, now: datetime
    ) -> str:
        file, profile = stored.file, stored.profile
        key = f"{stored.id}:{launch.step}:{launch.slot}:{launch.channel}"
        if stored.round:
            key += f":r{stored.round}"
        contact = getattr(file.contacts, CHANNEL_NEEDS[launch.channel])
        recipient: dict[str, Any] = {
            "id": stored.contract_id,
            "name": file.case.payer.name,
            "cpf": file.case.payer.cpf,
            "role": "payer",  # R12: only the person who pays is ever addressed
            CHANNEL_NEEDS[launch.channel]: contact.value
            if CHANNEL_NEEDS[launch.channel] != "address"
            else contact.value.model_dump(exclude_none=True),
        }
        if profile.quiet_hours is not None:  # R22: the pipeline holds sends until they end
            recipient["quiet_hours"] = profile.quiet_hours.as_json()
        if file.contacts.address and file.contacts.address.usable and "address" not in recipient:
            recipient["address"] = file.contacts.address.value.model_dump(exclude_none=True)
        record, _ = submit(
            self._engine,
            self._catalog,
            SubmitRequest(
                template=profile.template,
                locale=profile.locale,
                data=notice_data(stored.file, stored.profile, evaluation.at),
                recipient=recipient,
                channels=[launch.channel],
                case_id=stored.id,
            ),
            submitted_by=LADDER_SUBMITTER,
            idempotency_key=key,
            # The attempt, not its day's data: a retry after a crash finds the same one.
            fingerprint=key,
            now=now,
        )
        return record.id

    def _cancel_unsent(self, stored: StoredCase, reason: str, now: datetime) -> int:
        """Cancel the case's communications whose sending has not started, and agent
        calls still waiting in the agents' queue (no outcome reported yet); each
        cancellation is recorded on its communication. Return how many."""
        cancelled = 0
        for attempt in stored.attempts:
            if attempt.communication_id and self._cancel(attempt, reason, now):
                self._ledger.append(
                    EvidenceEvent(
                        type=EventType.CANCELLED,
                        channel=Channel(attempt.channel),
                        communication_id=attempt.communication_id,
                        case_id=stored.id,
                        occurred_at=now,
                        actor="ccm",
                        reasons=(reason,),
                        details={"method": "ladder"},
                    )
                )
                cancelled += 1
        return cancelled

    def _cancel(self, attempt: CaseAttempt, reason: str, now: datetime) -> bool:
        """Cancel one attempt's communication if nothing of it reached a provider (or, for
        an agent call, if it waits in the queue with no outcome reported); whether it was.
        Decided under the communication's row lock, which a send's claim also takes."""
        communication_id = attempt.communication_id
        with self._engine.begin() as connection:
            status = connection.execute(
                select(communications.c.status)
                .where(communications.c.id == communication_id)
                .with_for_update()
            ).scalar()
            if status in {Status.PROVEN, Status.FAILED, Status.CANCELLED}:
                return False
            held = connection.execute(
                update(jobs)
                .where(
                    jobs.c.communication_id == communication_id,
                    jobs.c.kind.in_(("compose", "send")),
                    jobs.c.state.in_(_UNSENT_JOBS),
                )
                .values(state="cancelled", lease_until=None, last_error=reason[:2000])
            ).rowcount
            delivery = connection.execute(
                select(deliveries.c.state).where(deliveries.c.communication_id == communication_id)
            ).scalar()
            reported = connection.execute(
                select(jobs.c.id).where(
                    jobs.c.communication_id == communication_id,
                    jobs.c.kind == "signal",
                    jobs.c.state.in_(("pending", "enqueued", "running")),
                )
            ).first()
            queued_call = attempt.channel == "agent_call" and delivery == "sent" and not reported
            # A claimed delivery whose send job was just held never reached the provider;
            # any other delivery row means a send under way or done: it goes on.
            untouched = delivery is None or (delivery == "claimed" and held)
            if not (untouched or queued_call):
                return False
            connection.execute(
                update(communications)
                .where(communications.c.id == communication_id)
                .values(status=Status.CANCELLED, updated_at=now)
            )
        return True

    def _set_state(
        self,
        stored: StoredCase,
        state: CaseState,
        now: datetime,
        **changes: Any,
    ) -> bool:
        """Move the case from the state (and round) it was read in, with ``changes`` to
        its other columns; ``False`` when another worker moved it first."""
        values: dict[str, Any] = {"state": state, "updated_at": now, **changes}
        with self._engine.begin() as connection:
            return bool(
                connection.execute(
                    update(cases)
                    .where(
                        cases.c.id == stored.id,
                        cases.c.state == stored.state,
                        cases.c.round == stored.round,
                    )
                    .values(**values)
                ).rowcount
            )
