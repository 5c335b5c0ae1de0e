"""The RN 593 escalation ladder (rules R12, R13, R22 of shared/reference/domain.md): which
channels launch when, the ``a|b`` fallback, when attempts are exhausted, the operator
profile file, and the first day a proven case becomes eligible for termination."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.errors import DataValidationError
from ccm.rn593 import Block, evaluate
from ccm.rn593.case import Case
from ccm.rn593.clock import first_eligible
from ccm.rn593.ladder import (
    CHANNEL_NEEDS,
    DEFAULT_STEPS,
    AttemptSeen,
    LadderProfile,
    LadderStep,
    Launch,
    QuietHours,
    exhausted,
    load_profile,
    plan,
    profile_json,
)
from tests.rn593.test_clock import case, installment, notice

SAMPLE = Path(__file__).parents[2] / "ccm" / "rn593" / "samples" / "operator-profile.json"
PROFILE = LadderProfile(operator={"name": "Vida Plena Saúde S.A."}, pix_key="x")
STARTED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
FAR = date(2026, 12, 31)
ALL_USABLE: dict[str, str | None] = dict.fromkeys(CHANNEL_NEEDS)
START = [Launch(step=0, slot=0, channel="email"), Launch(step=0, slot=1, channel="whatsapp")]
STEP_1 = [Launch(step=1, slot=0, channel="ivr")]
STEP_2 = [
    Launch(step=2, slot=0, channel="agent_call"),
    Launch(step=2, slot=1, channel="registered_mail"),
]


def attempt(
    step: int, slot: int, channel: str, outcome: str = "open", *, at: datetime = STARTED
) -> AttemptSeen:
    return AttemptSeen(step=step, slot=slot, channel=channel, launched_at=at, outcome=outcome)


STEP_0_OPEN = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp")]
STEPS_0_1_OPEN = [*STEP_0_OPEN, attempt(1, 0, "ivr", at=STARTED + timedelta(days=2))]


def launches(
    attempts: Sequence[AttemptSeen] = (),
    *,
    started_at: datetime | None = STARTED,
    now: datetime = STARTED,
    notify_by: date | None = FAR,
    usable: dict[str, str | None] = ALL_USABLE,
    profile: LadderProfile = PROFILE,
) -> list[Launch]:
    return plan(profile, list(attempts), started_at=started_at, now=now, today=now.date(),
                notify_by=notify_by, usable=usable)  # fmt: skip


def without(*channels: str, reason: str = "no phone on file") -> dict[str, str | None]:
    return {**ALL_USABLE, **dict.fromkeys(channels, reason)}


# -- the default ladder: when each step is due ---------------------------------------------


@pytest.mark.parametrize("notify_by", [FAR, None])
def test_at_the_start_only_step_0_launches_email_and_whatsapp(notify_by: date | None) -> None:
    assert launches(started_at=None, notify_by=notify_by) == START


def test_the_ivr_step_is_due_exactly_two_days_after_the_start() -> None:
    two_days = STARTED + timedelta(days=2)
    assert launches(STEP_0_OPEN, now=two_days - timedelta(seconds=1)) == []
    assert launches(STEP_0_OPEN, now=two_days) == STEP_1


def test_the_last_step_is_due_five_days_after_the_start() -> None:
    five_days = STARTED + timedelta(days=5)
    assert launches(STEPS_0_1_OPEN, now=five_days - timedelta(seconds=1)) == []
    assert launches(STEPS_0_1_OPEN, now=five_days) == STEP_2


def test_the_last_step_is_due_at_once_when_notify_by_is_seven_days_away() -> None:
    # Given a ladder started an hour ago, When notify_by is 7 days away, Then step 2 jumps
    # ahead of the IVR step, which still waits for its 2 days.
    now = STARTED + timedelta(hours=1)
    assert launches(STEP_0_OPEN, now=now, notify_by=now.date() + timedelta(days=8)) == []
    assert launches(STEP_0_OPEN, now=now, notify_by=now.date() + timedelta(days=7)) == STEP_2
    assert launches(STEP_0_OPEN, now=now, notify_by=now.date() - timedelta(days=3)) == STEP_2


def test_a_near_notify_by_launches_the_last_step_together_with_the_first() -> None:
    near = STARTED.date() + timedelta(days=3)
    assert launches(started_at=None, notify_by=near) == START + STEP_2


def test_a_launched_step_is_never_launched_again() -> None:
    everything = [*STEPS_0_1_OPEN, attempt(2, 0, "agent_call"), attempt(2, 1, "registered_mail")]
    late = STARTED + timedelta(days=30)
    assert launches(everything, now=late, notify_by=late.date()) == []
    single_options_failed = [attempt(0, 0, "email", "failed"), attempt(0, 1, "whatsapp")]
    assert launches(single_options_failed, now=STARTED + timedelta(hours=1)) == []


def test_a_cancelled_attempt_does_not_fall_back() -> None:
    cancelled = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp", "cancelled")]
    assert launches(cancelled, now=STARTED + timedelta(hours=1)) == []


# -- the whatsapp|sms fallback and the usable map (R13) -----------------------------------


def test_a_failed_whatsapp_falls_back_to_sms() -> None:
    failed = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp", "failed")]
    assert launches(failed, now=STARTED + timedelta(hours=1)) == [
        Launch(step=0, slot=1, channel="sms")
    ]


def test_an_unusable_whatsapp_chooses_sms_directly() -> None:
    usable = without("whatsapp", reason="no provider configured")
    assert launches(started_at=None, usable=usable) == [
        Launch(step=0, slot=0, channel="email"),
        Launch(step=0, slot=1, channel="sms"),
    ]


def test_a_slot_with_no_usable_channel_is_skipped_once_with_every_reason() -> None:
    usable = {**ALL_USABLE, "whatsapp": "no provider configured", "sms": "no phone on file"}
    assert launches(started_at=None, usable=usable) == [
        Launch(step=0, slot=0, channel="email"),
        Launch(step=0, slot=1, channel="whatsapp", skip="no provider configured"),
        Launch(step=0, slot=1, channel="sms", skip="no phone on file"),
    ]  # fmt: skip
    recorded = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp", "skipped"),
                attempt(0, 1, "sms", "skipped")]  # fmt: skip
    assert launches(recorded, now=STARTED + timedelta(hours=1), usable=usable) == []


def test_an_unusable_single_channel_step_is_skipped_once() -> None:
    usable = without("ivr", reason="no birth date")
    now = STARTED + timedelta(days=2)
    assert launches(STEP_0_OPEN, now=now, usable=usable) == [
        Launch(step=1, slot=0, channel="ivr", skip="no birth date")
    ]
    skipped = [*STEP_0_OPEN, attempt(1, 0, "ivr", "skipped", at=now)]
    assert launches(skipped, now=now + timedelta(hours=1), usable=usable) == []


def test_a_failed_sms_after_a_failed_whatsapp_launches_nothing_more() -> None:
    both_failed = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp", "failed"),
                   attempt(0, 1, "sms", "failed")]  # fmt: skip
    assert launches(both_failed, now=STARTED + timedelta(hours=1)) == []
    sms_open = [*both_failed[:2], attempt(0, 1, "sms")]
    assert launches(sms_open, now=STARTED + timedelta(hours=1)) == []


def test_a_failed_whatsapp_with_an_unusable_sms_records_one_skip_then_nothing() -> None:
    failed = [attempt(0, 0, "email"), attempt(0, 1, "whatsapp", "failed")]
    now = STARTED + timedelta(hours=1)
    [skip] = launches(failed, now=now, usable=without("sms"))
    assert (skip.step, skip.slot, skip.channel) == (0, 1, "sms") and skip.skip
    assert not exhausted(PROFILE, failed, now=now)  # owed until recorded
    recorded = [*failed, attempt(0, 1, "sms", "skipped")]
    assert launches(recorded, now=now, usable=without("sms")) == []


def test_a_channel_missing_from_the_usable_map_is_unusable() -> None:
    usable: dict[str, str | None] = {"email": None, "sms": None}
    assert launches(started_at=None, usable=usable) == [
        Launch(step=0, slot=0, channel="email"),
        Launch(step=0, slot=1, channel="sms"),
    ]
    assert launches(started_at=None, usable={}) == [
        Launch(step=0, slot=0, channel="email", skip="unknown channel"),
        Launch(step=0, slot=1, channel="whatsapp", skip="unknown channel"),
        Launch(step=0, slot=1, channel="sms", skip="unknown channel"),
    ]


# -- exhausted ------------------------------------------------------------------------------

NOW = STARTED + timedelta(days=6)
ALL_FAILED = [
    attempt(0, 0, "email", "failed"),
    attempt(0, 1, "whatsapp", "skipped"),
    attempt(0, 1, "sms", "failed"),
    attempt(1, 0, "ivr", "cancelled", at=STARTED + timedelta(days=2)),
    attempt(2, 0, "agent_call", "failed", at=STARTED + timedelta(days=5)),
    attempt(2, 1, "registered_mail", "failed", at=STARTED + timedelta(days=5)),
]


def test_not_exhausted_while_a_step_is_not_launched() -> None:
    assert not exhausted(PROFILE, ALL_FAILED[:4], now=NOW + timedelta(days=30))
    assert not exhausted(PROFILE, [], now=NOW)


def test_exhausted_when_every_attempt_failed_was_skipped_or_cancelled() -> None:
    assert exhausted(PROFILE, ALL_FAILED, now=NOW)


def test_an_open_attempt_counts_as_failed_only_after_give_up_after() -> None:
    launched = STARTED + timedelta(days=5)
    last_open = [*ALL_FAILED[:-1], attempt(2, 1, "registered_mail", at=launched)]
    assert not exhausted(PROFILE, last_open, now=launched + timedelta(days=10, seconds=-1))
    assert exhausted(PROFILE, last_open, now=launched + timedelta(days=10))
    assert exhausted(PROFILE, last_open, now=launched + timedelta(days=11))
    patient = PROFILE.model_copy(update={"give_up_after": timedelta(days=20)})
    assert not exhausted(patient, last_open, now=launched + timedelta(days=11))


def test_not_exhausted_while_the_sms_fallback_is_still_owed() -> None:
    fallback_owed = [a for a in ALL_FAILED if a.channel != "sms"]
    fallback_owed[1] = attempt(0, 1, "whatsapp", "failed")
    assert launches(fallback_owed, now=NOW) == [Launch(step=0, slot=1, channel="sms")]
    assert not exhausted(PROFILE, fallback_owed, now=NOW)


# -- the profile file ----------------------------------------------------------------------


def write(tmp_path: Path, body: Any) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


def test_the_shipped_profile_loads_with_the_default_three_steps() -> None:
    profile = load_profile(SAMPLE)
    assert len(profile.steps) == 3 and profile.steps == DEFAULT_STEPS
    assert profile.give_up_after == timedelta(days=10)
    assert profile.operator["ans_registration"] == "412345"


def test_a_profile_naming_an_unknown_channel_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"operator": {}, "pix_key": "x", "steps": [{"channels": ["fax"]}]})
    with pytest.raises(DataValidationError) as raised:
        load_profile(path)
    assert "profile.steps[0].channels" in {e.path for e in raised.value.errors}
    assert "'fax' is not a channel" in str(raised.value)


def test_a_missing_profile_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as raised:
        load_profile(tmp_path / "absent.json")
    assert [e.path for e in raised.value.errors] == ["profile"]
    assert "absent.json" in raised.value.errors[0].message


@pytest.mark.parametrize("body", ["{not json", "[]"])
def test_a_profile_that_is_not_a_json_object_is_named(tmp_path: Path, body: str) -> None:
    with pytest.raises(DataValidationError) as raised:
        load_profile(write(tmp_path, body))
    assert [e.path for e in raised.value.errors] == ["profile"]


def test_iso_8601_durations_parse(tmp_path: Path) -> None:
    path = write(tmp_path, {"operator": {}, "pix_key": "x", "give_up_after": "P3DT12H",
                            "steps": [{"channels": ["email"], "after": "PT30S"},
                                      {"channels": ["sms"], "after": "P2D"}]})  # fmt: skip
    profile = load_profile(path)
    assert [s.after for s in profile.steps] == [timedelta(seconds=30), timedelta(days=2)]
    assert profile.give_up_after == timedelta(days=3, hours=12)


def test_the_stored_profile_json_loads_back_unchanged(tmp_path: Path) -> None:
    profile = load_profile(SAMPLE)
    assert load_profile(write(tmp_path, profile_json(profile))) == profile


def test_a_custom_step_validates_each_alternative() -> None:
    with pytest.raises(ValueError, match="'telegram' is not a channel"):
        LadderStep(channels=("email", "whatsapp|telegram"))


def test_quiet_hours_default_to_eight_pm_to_eight_am() -> None:
    assert QuietHours().as_json() == {"start": "20:00", "end": "08:00"}
    assert QuietHours(start=time(21, 30), end=time(7, 5)).as_json() == {
        "start": "21:30",
        "end": "07:05",
    }


# -- first_eligible ------------------------------------------------------------------------

DUE = date(2026, 8, 10)


def test_over_60_days_can_come_after_the_payment_deadline() -> None:
    # Given a familiar contract proven on day 40 (deadline day 50), Then the first eligible
    # day is the 61st delinquent day, later than the proof + 11.
    proven = case(installment(DUE), installment(DUE + timedelta(days=31)), kind="familiar",
                  notices=(notice("sms", DUE + timedelta(days=39), "reply",
                                  DUE + timedelta(days=40)),))  # fmt: skip
    proof_day = DUE + timedelta(days=40)
    assert first_eligible(proven, proof_day) == DUE + timedelta(days=61)
    assert evaluate(proven, DUE + timedelta(days=60)).blocks == (Block.NOT_OVER_60_DAYS,)
    assert evaluate(proven, proof_day + timedelta(days=11)).blocks == (Block.NOT_OVER_60_DAYS,)


def test_first_eligible_is_none_without_a_proof_at_the_start() -> None:
    unproven = case(installment(DUE), installment(DUE + timedelta(days=31)))
    assert first_eligible(unproven, DUE + timedelta(days=40)) is None


@st.composite
def proven_cases(draw: st.DrawFn) -> tuple[Case, date]:
    """Cases around one base date, dense enough in proofs that many become eligible."""
    offset = st.integers(min_value=0, max_value=120)
    items = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        due = DUE + timedelta(days=draw(offset))
        paid = draw(st.none() | st.integers(min_value=0, max_value=150))
        items.append(installment(due, paid_on=due + timedelta(days=paid) if paid is not None
                                 else None, delay=draw(st.integers(0, 5))))  # fmt: skip
    sent = min(date.fromisoformat(i["due_date"]) for i in items) + timedelta(days=draw(offset))
    proven_on = sent + timedelta(days=draw(st.integers(min_value=0, max_value=5)))
    stays = draw(st.lists(st.tuples(offset, st.none() | st.integers(0, 20)), max_size=1))
    disputes = draw(st.lists(st.tuples(offset, st.none() | st.integers(0, 20)), max_size=1))

    def span(keys: tuple[str, str], start: int, length: int | None) -> dict[str, Any]:
        begin = DUE + timedelta(days=start)
        end = begin + timedelta(days=length) if length is not None else None
        return {keys[0]: begin.isoformat(), keys[1]: end.isoformat() if end else None}

    subject = case(
        *items,
        kind=draw(st.sampled_from(["individual", "familiar", "coletivo_por_adesao"])),
        notices=(notice("sms", sent, "reply", proven_on),),
        hospitalizations=[span(("from", "to"), *s) for s in stays],
        disputes=[span(("opened_on", "answered_on"), *d) for d in disputes],
    )
    return subject, proven_on + timedelta(days=draw(st.integers(min_value=-10, max_value=90)))


@settings(max_examples=150, deadline=None)
@given(proven_cases(), st.integers(min_value=0, max_value=120))
def test_first_eligible_is_the_first_eligible_day_from_the_start(
    drawn: tuple[Case, date], horizon: int
) -> None:
    subject, start = drawn
    found = first_eligible(subject, start, horizon_days=horizon)
    span = [start + timedelta(days=n) for n in range(horizon + 1)]
    if not evaluate(subject, start).proof.proven:
        assert found is None
        return
    if found is not None:
        assert start <= found <= start + timedelta(days=horizon)
        assert evaluate(subject, found).eligible_for_termination
        before = found - timedelta(days=1)
        assert before < start or not evaluate(subject, before).eligible_for_termination
    eligible = [day for day in span if evaluate(subject, day).eligible_for_termination]
    assert found == (eligible[0] if eligible else None)
