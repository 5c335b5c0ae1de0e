"""Bad data gets one error per problem, naming the JSON path and the rule broken."""

from collections.abc import Callable
from typing import Any

import pytest

from ccm.composition import Composer
from ccm.errors import DataError, DataValidationError

Mutation = Callable[[dict[str, Any]], None]


def errors_for(composer: Composer, data: dict[str, Any]) -> list[DataError]:
    with pytest.raises(DataValidationError) as caught:
        composer.prepare("delinquency_notice", data)
    return list(caught.value.errors)


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[leaf]
        else:
            target[int(leaf) if leaf.isdigit() else leaf] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (_set("payer.cpf", "284.197.365-47"), "payer.cpf", "invalid CPF check digits"),
        (_set("payer.cpf", "111.111.111-11"), "payer.cpf", "all digits are equal"),
        (_set("operator.cnpj", "41.287.035/0001-31"), "operator.cnpj", "invalid CNPJ check digits"),
        (_set("beneficiaries.1.cpf", "517.309.246-71"), "beneficiaries[1].cpf", "invalid CPF"),
        (_set("installments.0.amount", "1287.4"), "installments[0].amount", "2 places"),
        (_set("installments.0.amount", 1287.40), "installments[0].amount", "must be a string"),
        (
            _set("installments.1.due_date", "2026-02-30"),
            "installments[1].due_date",
            "real calendar",
        ),
        (_set("installments.1.competence", "2026-13"), "installments[1].competence", "YYYY-MM"),
        (_set("plan.name", KeyError), "plan.name", "is required"),
        (_set("payer.cfp", "x"), "payer.cfp", "not a field"),
        (_set("beneficiaries.0.relationship", "avó"), "beneficiaries[0].relationship", "one of"),
        (_set("payer.address.state", "XX"), "payer.address.state", "state abbreviation"),
        (_set("payer.address.postal_code", "4107-020"), "payer.address.postal_code", "8 digits"),
        (_set("payment.pix_key", "not-a-key"), "payment.pix_key", "PIX key"),
        (_set("payer.phone", "+55 11 1234"), "payer.phone", "not a valid phone"),
        (_set("operator.ans_registration", "41234"), "operator.ans_registration", "6 digits"),
        (_set("beneficiaries", []), "beneficiaries", "at least 1"),
        (
            _set("payment.boleto_line", "34191.09123 34567.812341 56789.012301 4 16470000265334"),
            "payment.boleto_line",
            "general check digit",
        ),
    ],
)
def test_schema_and_format_errors(
    unsigned_composer: Composer,
    notice_data: dict[str, Any],
    mutate: Mutation,
    path: str,
    message: str,
) -> None:
    mutate(notice_data)
    errors = errors_for(unsigned_composer, notice_data)
    assert [e.path for e in errors] == [path]
    assert message in errors[0].message


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (
            _set("installments.1.due_date", "2026-11-21"),
            "installments[1].due_date",
            "before the issue",
        ),
        (
            _set("installments.1.updated_amount", "1000.00"),
            "installments[1].updated_amount",
            "less than",
        ),
        (_set("installments.1.competence", "2026-10"), "installments[1].competence", "repeats"),
        (_set("payment.deadline", "2026-11-30"), "payment.deadline", "at least 10 days"),
        (_set("consequence", {"date": "2026-12-01"}), "consequence.date", "after payment.deadline"),
        (_set("installments.1.updated_amount", "1320.03"), "payment.boleto_line", "differs"),
    ],
)
def test_domain_errors(
    unsigned_composer: Composer,
    notice_data: dict[str, Any],
    mutate: Mutation,
    path: str,
    message: str,
) -> None:
    mutate(notice_data)
    errors = errors_for(unsigned_composer, notice_data)
    assert path in [e.path for e in errors]
    assert any(message in e.message for e in errors if e.path == path)


def test_every_problem_is_reported_at_once(
    unsigned_composer: Composer, notice_data: dict[str, Any]
) -> None:
    notice_data["payer"]["cpf"] = "1"
    notice_data["installments"][0]["amount"] = "x"
    del notice_data["payment"]["pix_key"]
    errors = errors_for(unsigned_composer, notice_data)
    assert [e.path for e in errors] == [
        "installments[0].amount",
        "payer.cpf",
        "payment.pix_key",
    ]
    text = str(DataValidationError(errors, template="delinquency_notice"))
    assert "payer.cpf: CPF must have 11 digits" in text


def test_a_valid_sample_passes(unsigned_composer: Composer, notice_data: dict[str, Any]) -> None:
    composition = unsigned_composer.prepare("delinquency_notice", notice_data)
    assert str(composition.context["debt"]["total"]) == "2653.34"
    assert composition.context["debt"]["days_overdue"] == 47
    assert composition.doc.issue_date.isoformat() == "2026-11-21"


def test_one_unpaid_installment_cannot_announce_a_consequence(
    unsigned_composer: Composer, notice_data: dict[str, Any]
) -> None:
    notice_data["installments"] = notice_data["installments"][:1]
    del notice_data["payment"]["boleto_line"]
    errors = errors_for(unsigned_composer, notice_data)
    assert [str(e) for e in errors] == [
        "installments: a suspension or termination needs at least 2 unpaid installments "
        "in 12 months (RN 593 art. 4 §3, rule R5)"
    ]


@pytest.mark.parametrize(
    ("plan_type", "earliest"),
    [("familiar", "2026-12-05"), (None, "2026-12-05"), ("coletivo_por_adesao", "2026-12-02")],
)
def test_the_consequence_waits_for_day_61_on_individual_and_family_plans(
    unsigned_composer: Composer, notice_data: dict[str, Any], plan_type: str | None, earliest: str
) -> None:
    # Oldest due date 2026-10-05: day 61 is 2026-12-05; the payment deadline is 2026-12-01.
    if plan_type is None:
        del notice_data["plan"]["type"]
    else:
        notice_data["plan"]["type"] = plan_type
    composition = unsigned_composer.prepare("delinquency_notice", notice_data)
    assert composition.context["consequence"]["date"].isoformat() == earliest
    notice_data["consequence"] = {"date": "2026-12-02"}
    if earliest == "2026-12-02":
        unsigned_composer.prepare("delinquency_notice", notice_data)
    else:
        (error,) = errors_for(unsigned_composer, notice_data)
        assert error.path == "consequence.date" and "more than 60 days" in error.message


def test_the_boleto_falls_due_on_the_payment_deadline(
    unsigned_composer: Composer, notice_data: dict[str, Any]
) -> None:
    from datetime import date
    from decimal import Decimal

    from ccm.payments import Boleto

    early = Boleto.build(
        bank="341",
        due=date(2026, 11, 25),
        amount=Decimal("2653.34"),
        free_field="1091234567812345678901230",
    )
    notice_data["payment"]["boleto_line"] = early.formatted_line
    (error,) = errors_for(unsigned_composer, notice_data)
    assert str(error) == "payment.boleto_line: the boleto must fall due on payment.deadline"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("payer.cpf", "２８４.１９７.３６５-４６", "only digits"),
        ("installments.0.amount", "1287.40\n", "2 places"),
        ("operator.ans_registration", "４１２３４５", "6 digits"),
    ],
)
def test_only_ascii_digits_and_whole_values_are_accepted(
    unsigned_composer: Composer, notice_data: dict[str, Any], path: str, value: str, message: str
) -> None:
    _set(path, value)(notice_data)
    errors = errors_for(unsigned_composer, notice_data)
    assert any(message in e.message for e in errors), errors
