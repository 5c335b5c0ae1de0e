"""The RN 593 clock, scenario by scenario (rules R1-R11 of shared/reference/domain.md),
and properties of its date arithmetic over generated cases."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ccm.cli import app
from ccm.rn593 import Block, ClockPolicy, case_schema, evaluate, read_case
from ccm.rn593.case import Case

SCHEMA = Path(__file__).parents[2] / "ccm" / "rn593" / "case.schema.json"
AUG, SEP, OCT = date(2026, 8, 10), date(2026, 9, 10), date(2026, 10, 10)


def installment(due: date, *, paid_on: date | None = None, delay: int = 0) -> dict[str, Any]:
    return {"competence": f"{due:%Y-%m}", "due_date": due.isoformat(), "amount": 880.5,
            "paid_on": paid_on.isoformat() if paid_on else None,
            "operator_caused_delay_days": delay}  # fmt: skip


def notice(channel: str, sent: date, kind: str | None, on: date | None = None) -> dict[str, Any]:
    proof = {"kind": kind, "on": (on or sent).isoformat()} if kind else None
    return {"channel": channel, "sent_on": sent.isoformat(), "proof": proof,
            "evidence_ids": [f"ev_{channel}_{sent:%m%d}"]}  # fmt: skip


def case(
    *installments: dict[str, Any],
    kind: str = "individual",
    direct: bool = True,
    notices: tuple[dict[str, Any], ...] = (),
    **lists: list[dict[str, Any]],
) -> Case:
    body = {
        "contract": {"id": "VP-2019-0048213", "type": kind, "pays_operator_directly": direct},
        "payer": {"name": "Maria Aparecida", "cpf": "284.197.365-46", "role": "titular"},
        "installments": list(installments) or [installment(AUG), installment(SEP)],
        "notices": list(notices),
        **lists,
    }
    return read_case(json.dumps(body))


PROVEN_SMS = (notice("sms", date(2026, 9, 20), "reply", date(2026, 9, 21)),)


# -- delinquent days, notify_by, unpaid installments (R1, R2, R5, R7, R8) ----------------


def test_day_one_is_the_day_after_the_due_date() -> None:
    assert evaluate(case(installment(AUG)), AUG).delinquent_days == 0
    assert evaluate(case(installment(AUG)), AUG + timedelta(days=1)).delinquent_days == 1


def test_notify_by_is_the_oldest_unpaid_due_date_plus_50_days() -> None:
    result = evaluate(case(), date(2026, 9, 15))
    assert result.notify_by == date(2026, 9, 29) and result.oldest_unpaid_due_date == AUG


def test_paid_installments_add_no_days_even_when_paid_late() -> None:
    late = installment(AUG, paid_on=date(2026, 9, 1))
    result = evaluate(case(late, installment(SEP)), date(2026, 10, 1))
    assert result.delinquent_days == 21 and result.oldest_unpaid_due_date == SEP


def test_a_payment_after_the_evaluation_date_is_still_unpaid_then() -> None:
    later = installment(AUG, paid_on=date(2026, 10, 5))
    assert evaluate(case(later, installment(SEP)), date(2026, 10, 1)).delinquent_days == 52
    assert evaluate(case(later, installment(SEP)), date(2026, 10, 5)).oldest_unpaid_due_date == SEP


def test_operator_caused_delay_does_not_count() -> None:
    result = evaluate(case(installment(AUG, delay=7), installment(SEP)), date(2026, 10, 1))
    assert result.delinquent_days == 52 - 7
    assert result.notify_by == AUG + timedelta(days=50)  # the earlier date is kept


def test_an_installment_not_yet_due_is_not_unpaid() -> None:
    result = evaluate(case(installment(AUG), installment(SEP)), SEP)
    assert result.unpaid_installments_12m == 1


def test_unpaid_installments_count_only_the_last_12_months() -> None:
    old = installment(date(2025, 9, 10))
    result = evaluate(case(old, installment(AUG), installment(SEP)), date(2026, 10, 1))
    assert result.unpaid_installments_12m == 2
    assert result.oldest_unpaid_due_date == date(2025, 9, 10)


def test_twelve_months_back_from_the_end_of_february() -> None:
    result = evaluate(case(installment(date(2025, 2, 28)), installment(date(2025, 3, 1))),
                      date(2026, 2, 28))  # fmt: skip
    assert result.unpaid_installments_12m == 1  # 2025-02-28 is 12 months back: outside


# -- the proof (R14-R18) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "kind", "proves"),
    [
        ("email", "signature", True),
        ("email", "read_confirmation", True),
        ("email", "reply", False),
        ("sms", "reply", True),
        ("sms", "read_confirmation", False),
        ("whatsapp", "reply", True),
        ("whatsapp", "signature", False),
        ("ivr", "data_confirmation", True),
        ("ivr", "reply", False),
        ("agent_call", "data_confirmation", True),
        ("agent_call", "signed_receipt", False),
        ("registered_mail", "ar_delivered", True),
        ("registered_mail", "signature", False),
        ("in_person", "signed_receipt", True),
        ("in_person", "data_confirmation", False),
    ],
)
def test_a_proof_counts_only_for_its_channel(channel: str, kind: str, proves: bool) -> None:
    result = evaluate(case(notices=(notice(channel, date(2026, 9, 20), kind),)), OCT)
    assert result.proof.proven is proves
    assert (Block.NOT_NOTIFIED in result.blocks) is not proves


def test_a_notice_without_proof_proves_nothing_and_the_notice_is_still_required() -> None:
    result = evaluate(case(notices=(notice("sms", date(2026, 9, 20), None),)), OCT)
    assert not result.proof.proven and result.notice_required
    assert result.payment_deadline is None and result.earliest_termination is None


def test_the_earliest_valid_proof_is_used_with_its_evidence_ids() -> None:
    notices = (
        notice("registered_mail", date(2026, 9, 15), "ar_delivered", date(2026, 9, 25)),
        notice("email", date(2026, 9, 18), "read_confirmation", date(2026, 9, 19)),
    )
    proof = evaluate(case(notices=notices), OCT).proof
    assert (proof.channel, proof.on, proof.evidence_ids) == ("email", date(2026, 9, 19),
                                                             ("ev_email_0918",))  # fmt: skip


def test_a_proof_of_an_earlier_settled_debt_does_not_count() -> None:
    notices = (notice("sms", date(2026, 7, 1), "reply", date(2026, 7, 2)),)
    assert not evaluate(case(notices=notices), OCT).proof.proven


def test_a_proof_dated_after_the_evaluation_date_does_not_count_yet() -> None:
    notices = (notice("sms", date(2026, 10, 20), "reply"),)
    assert not evaluate(case(notices=notices), OCT).proof.proven


def test_a_late_notice_is_valid_with_its_own_ten_days() -> None:
    notices = (notice("registered_mail", date(2026, 10, 1), "ar_delivered", date(2026, 10, 5)),)
    result = evaluate(case(notices=notices), date(2026, 10, 16))
    assert result.notified_on_time is False and result.proof.proven
    assert result.payment_deadline == date(2026, 10, 15) and result.eligible_for_termination


# -- payment window, disputes, hospitalisation, agreements (R3, R4, R9-R11) -------------


def test_payment_deadline_is_proof_plus_ten_and_termination_the_next_day() -> None:
    collective = case(kind="coletivo_por_adesao", notices=PROVEN_SMS)
    result = evaluate(collective, date(2026, 10, 1))
    assert result.payment_deadline == date(2026, 10, 1)
    assert result.earliest_termination == date(2026, 10, 2)
    assert result.blocks == (Block.PAYMENT_WINDOW_OPEN,)  # the last day to pay is today
    assert evaluate(collective, date(2026, 10, 2)).eligible_for_termination


def test_an_open_dispute_suspends_the_clock() -> None:
    disputes = [{"opened_on": "2026-09-25", "answered_on": None}]
    result = evaluate(case(notices=PROVEN_SMS, disputes=disputes), date(2026, 10, 20))
    assert Block.DISPUTE_OPEN in result.blocks and result.payment_deadline is None
    assert not result.eligible_for_termination


def test_the_answer_to_a_dispute_restarts_ten_days() -> None:
    disputes = [{"opened_on": "2026-09-25", "answered_on": "2026-10-06"}]
    result = evaluate(case(notices=PROVEN_SMS, disputes=disputes), date(2026, 10, 16))
    assert result.payment_deadline == date(2026, 10, 16)
    assert result.blocks == (Block.PAYMENT_WINDOW_OPEN,)
    assert evaluate(case(notices=PROVEN_SMS, disputes=disputes), date(2026, 10, 17)).blocks == ()


def test_a_dispute_answered_after_the_evaluation_date_is_still_open() -> None:
    disputes = [{"opened_on": "2026-09-25", "answered_on": "2026-11-06"}]
    result = evaluate(case(notices=PROVEN_SMS, disputes=disputes), date(2026, 10, 20))
    assert Block.DISPUTE_OPEN in result.blocks


def test_a_hospitalised_titular_blocks_termination() -> None:
    stays = [{"from": "2026-10-01", "to": None}]
    result = evaluate(case(notices=PROVEN_SMS, hospitalizations=stays), date(2026, 10, 20))
    assert Block.HOSPITALIZED in result.blocks


def test_a_discharge_owes_a_new_payment_window_by_policy() -> None:
    stays = [{"from": "2026-10-01", "to": "2026-10-12"}]
    subject = case(notices=PROVEN_SMS, hospitalizations=stays)
    assert evaluate(subject, date(2026, 10, 20)).payment_deadline == date(2026, 10, 22)
    lenient = ClockPolicy(new_window_after_discharge=False)
    assert evaluate(subject, date(2026, 10, 20), lenient).eligible_for_termination


def test_an_active_agreement_blocks_and_a_broken_one_does_not() -> None:
    active = [{"signed_on": "2026-09-30", "status": "active"}]
    assert Block.AGREEMENT_ACTIVE in evaluate(case(notices=PROVEN_SMS, agreements=active),
                                              date(2026, 10, 20)).blocks  # fmt: skip
    broken = [{"signed_on": "2026-09-30", "status": "broken"}]
    assert evaluate(case(notices=PROVEN_SMS, agreements=broken),
                    date(2026, 10, 20)).eligible_for_termination  # fmt: skip


# -- eligibility ------------------------------------------------------------------------


def test_one_unpaid_installment_is_not_enough() -> None:
    result = evaluate(case(installment(AUG), notices=PROVEN_SMS), date(2026, 10, 20))
    assert Block.FEWER_THAN_TWO_UNPAID in result.blocks
    assert evaluate(case(installment(AUG), notices=PROVEN_SMS), date(2026, 10, 20),
                    ClockPolicy(min_unpaid_installments=1)).eligible_for_termination  # fmt: skip


def test_individual_contracts_need_more_than_60_delinquent_days() -> None:
    notices = (notice("sms", date(2026, 9, 11), "reply"),)
    at_60 = evaluate(case(notices=notices), AUG + timedelta(days=60))
    assert Block.NOT_OVER_60_DAYS in at_60.blocks
    assert evaluate(case(notices=notices), AUG + timedelta(days=61)).eligible_for_termination


def test_collective_contracts_do_not_need_60_days() -> None:
    notices = (notice("sms", date(2026, 9, 11), "reply"),)
    result = evaluate(case(kind="coletivo_por_adesao", notices=notices), date(2026, 9, 25))
    assert result.delinquent_days == 46 and result.eligible_for_termination


def test_a_business_contract_not_paid_directly_is_not_covered() -> None:
    result = evaluate(case(kind="coletivo_empresarial", direct=False, notices=PROVEN_SMS), OCT)
    assert Block.NOT_COVERED in result.blocks and not result.notice_required
    paying = evaluate(case(kind="coletivo_empresarial", direct=True, notices=PROVEN_SMS),
                      date(2026, 10, 20))  # fmt: skip
    assert paying.eligible_for_termination


def test_a_paid_debt_blocks_and_requires_no_notice() -> None:
    paid = case(installment(AUG, paid_on=date(2026, 9, 1)), installment(SEP, paid_on=SEP))
    result = evaluate(paid, OCT)
    assert result.blocks == (Block.PAID,) and not result.notice_required
    assert result.delinquent_days == 0 and result.notify_by is None


def test_every_block_is_reported_at_once() -> None:
    subject = case(installment(AUG), kind="familiar",
                   disputes=[{"opened_on": "2026-08-20", "answered_on": None}],
                   agreements=[{"signed_on": "2026-08-25", "status": "active"}],
                   hospitalizations=[{"from": "2026-08-28", "to": None}])  # fmt: skip
    assert set(evaluate(subject, date(2026, 9, 1)).blocks) == {
        Block.HOSPITALIZED, Block.DISPUTE_OPEN, Block.AGREEMENT_ACTIVE,
        Block.FEWER_THAN_TWO_UNPAID, Block.NOT_OVER_60_DAYS, Block.NOT_NOTIFIED,
    }  # fmt: skip


# -- the file, the schema, the command ---------------------------------------------------


def test_the_published_schema_is_the_models() -> None:
    assert json.loads(SCHEMA.read_text()) == case_schema()


def test_evaluate_prints_the_clock_as_json(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(case(notices=PROVEN_SMS).model_dump_json(by_alias=True))
    result = CliRunner().invoke(app, ["rn593", "evaluate", str(path), "--at", "2026-10-15"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["proof"] == {"proven": True, "channel": "sms", "date": "2026-09-21",
                                "evidence_ids": ["ev_sms_0920"]}  # fmt: skip
    assert printed["notify_by"] == "2026-09-29" and printed["eligible_for_termination"]
    assert printed["blocks"] == [] and printed["payment_deadline"] == "2026-10-01"


def test_bad_case_files_exit_2_naming_each_field(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"contract": {"id": "x", "type": "empresa",
                                             "pays_operator_directly": True},
                                "payer": {"name": "M", "cpf": "1", "role": "titular"},
                                "installments": [{"competence": "2026-13", "due_date": "10/08/2026",
                                                  "amount": -1}]}))  # fmt: skip
    result = CliRunner().invoke(app, ["rn593", "evaluate", str(path), "--at", "2026-10-15"])
    assert result.exit_code == 2
    for field in ("contract.type", "payer.cpf", "installments[0].competence",
                  "installments[0].due_date", "installments[0].amount"):  # fmt: skip
        assert field in result.output
    wrong_date = CliRunner().invoke(app, ["rn593", "evaluate", str(path), "--at", "15/10/2026"])
    assert wrong_date.exit_code == 2 and "--at" in wrong_date.output


# -- properties of the date arithmetic ------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    count = draw(st.integers(min_value=1, max_value=6))
    items = []
    for _ in range(count):
        due = draw(days)
        paid = draw(st.none() | st.integers(min_value=-20, max_value=120))
        delay = draw(st.integers(min_value=0, max_value=10))
        items.append(installment(due, paid_on=due + timedelta(days=paid) if paid is not None
                                 else None, delay=delay))  # fmt: skip
    proofs = draw(st.lists(st.tuples(days, st.integers(min_value=0, max_value=30)), max_size=3))
    notices = tuple(
        notice("sms", sent, "reply", sent + timedelta(days=lag)) for sent, lag in proofs
    )
    disputes = draw(st.lists(st.tuples(days, st.none() | st.integers(0, 40)), max_size=2))
    return case(*items, kind=draw(st.sampled_from(["individual", "coletivo_por_adesao"])),
                notices=notices,
                disputes=[{"opened_on": d.isoformat(),
                           "answered_on": (d + timedelta(days=a)).isoformat() if a is not None
                           else None} for d, a in disputes])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(cases(), days)
def test_properties_of_the_clock(subject: Case, at: date) -> None:
    result = evaluate(subject, at)
    assert result.delinquent_days >= 0
    if result.oldest_unpaid_due_date is not None:
        assert result.notify_by == result.oldest_unpaid_due_date + timedelta(days=50)
        assert result.delinquent_days <= (at - result.oldest_unpaid_due_date).days
    if result.proof.proven:
        assert result.proof.on is not None and result.proof.on <= at
        if result.payment_deadline is not None:
            assert result.payment_deadline >= result.proof.on + timedelta(days=10)
            assert result.earliest_termination == result.payment_deadline + timedelta(days=1)
    if result.eligible_for_termination:
        assert result.proof.proven and result.unpaid_installments_12m >= 2
        assert result.earliest_termination is not None and result.earliest_termination <= at
    assert result.eligible_for_termination == (result.blocks == ())


@settings(max_examples=200, deadline=None)
@given(cases(), days, st.integers(min_value=1, max_value=400))
def test_without_payments_delinquent_days_grow_one_a_day(
    subject: Case, at: date, later: int
) -> None:
    end = at + timedelta(days=later)
    paid = [i.paid_on for i in subject.installments if i.paid_on]
    before = evaluate(subject, at)
    if before.oldest_unpaid_due_date is None or any(at <= p <= end for p in paid):
        return
    after = evaluate(subject, end)
    assert after.oldest_unpaid_due_date == before.oldest_unpaid_due_date
    assert after.delinquent_days == before.delinquent_days + later or before.delinquent_days == 0
