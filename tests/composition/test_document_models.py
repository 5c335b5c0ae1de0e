"""Domain rules of the declaration, statement, second copy and termination models."""

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

import templates
from ccm.composition import Channel, Composer
from ccm.errors import DataValidationError

Mutation = Callable[[dict[str, Any]], None]


def sample(template: str, locale: str = "pt-BR", name: str = "sample.json") -> dict[str, Any]:
    path = templates.ROOT / template / locale / name
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def refused(composer: Composer, template: str, data: dict[str, Any], locale: str) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        composer.prepare(template, data, locale=locale)
    return [str(e) for e in caught.value.errors]


def _unpaid(d: dict[str, Any]) -> None:
    d["installments"][3]["paid_on"] = None


def _all_contested(d: dict[str, Any]) -> None:
    for i in d["installments"]:
        i["contested_in_court"] = True


def _repeated_month(d: dict[str, Any]) -> None:
    d["installments"][1]["competence"] = d["installments"][0]["competence"]


def _early_issue(d: dict[str, Any]) -> None:
    d["issue_date"] = f"{d['year']}-12-31"


def _split_mismatch(d: dict[str, Any]) -> None:
    d["beneficiaries"][0]["amount_paid"] = "10000.00"


def _business_plan(d: dict[str, Any]) -> None:
    d["plan"]["type"] = "coletivo_empresarial"


def _no_id(d: dict[str, Any]) -> None:
    person = next(b for b in d["beneficiaries"] if "cpf" in b)
    del person["cpf"]
    person.pop("birth_date", None)


def _boleto_amount(d: dict[str, Any]) -> None:
    d["boleto"]["amount"] = "1.00"


def _boleto_due(d: dict[str, Any]) -> None:
    d["boleto"]["due_date"] = "2026-12-11"


def _hospitalized(d: dict[str, Any]) -> None:
    d["titular_hospitalized"] = True


def _short_deadline(d: dict[str, Any]) -> None:
    d["notice"]["payment_deadline"] = d["notice"]["notified_on"]


def _early_termination(d: dict[str, Any]) -> None:
    d["termination_date"] = d["notice"]["payment_deadline"]


def _late_premium_notice(d: dict[str, Any]) -> None:
    d["premium_notice"]["sent_on"] = d["premium_notice"]["due_date"]


@pytest.mark.parametrize(
    ("template", "locale", "mutate", "expected"),
    [
        ("debt_discharge_declaration", "pt-BR", _unpaid, "installments[3].paid_on: is missing"),
        ("debt_discharge_declaration", "pt-BR", _all_contested, "nothing to declare"),
        (
            "debt_discharge_declaration",
            "pt-BR",
            _repeated_month,
            "installments[1].competence: repeats",
        ),
        ("debt_discharge_declaration", "pt-BR", _early_issue, "issue_date: must be after the end"),
        ("payment_statement", "pt-BR", _split_mismatch, "the statement must match the DMED"),
        ("payment_statement", "pt-BR", _business_plan, "plan.type: collective business plans"),
        ("payment_statement", "pt-BR", _no_id, "needs a cpf, or a birth_date"),
        ("second_copy", "pt-BR", _boleto_amount, "boleto.amount: differs from the amount"),
        ("second_copy", "pt-BR", _boleto_due, "boleto.due_date: differs from the due date"),
        (
            "contract_termination_letter",
            "pt-BR",
            _hospitalized,
            "titular_hospitalized: the contract",
        ),
        ("contract_termination_letter", "pt-BR", _short_deadline, "at least 10 days after"),
        (
            "contract_termination_letter",
            "pt-BR",
            _early_termination,
            "termination_date: must be after",
        ),
        ("contract_termination_letter", "pt-PT", _late_premium_notice, "at least 30 days before"),
    ],
)
def test_rule_is_enforced(
    unsigned_composer: Composer, template: str, locale: str, mutate: Mutation, expected: str
) -> None:
    data = sample(template, locale)
    unsigned_composer.prepare(template, copy.deepcopy(data), locale=locale)  # the sample is valid
    mutate(data)
    assert any(expected in e for e in refused(unsigned_composer, template, data, locale))


def test_declaration_lists_paid_and_contested_months(unsigned_composer: Composer) -> None:
    data = sample("debt_discharge_declaration", name="sample-partial.json")
    composition = unsigned_composer.prepare("debt_discharge_declaration", data)
    declaration = composition.context["declaration"]
    assert declaration["months_billed"] == 9 and not declaration["full_year"]
    assert [i["competence"] for i in declaration["contested"]] == ["2025-08"]
    assert len(declaration["paid"]) == 8


def test_boleto_copy_barcode_scans_back(unsigned_composer: Composer, tmp_path: Any) -> None:
    import subprocess

    import zxingcpp
    from PIL import Image

    composition = unsigned_composer.prepare("second_copy", sample("second_copy"))
    pdf = unsigned_composer.render(composition, Channel.DOCUMENT).pdf  # type: ignore[union-attr]
    (tmp_path / "copy.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", str(tmp_path / "copy.pdf"), str(tmp_path / "p")],
        check=True,
    )
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "p-1.png"))}
    assert composition.context["barcode"]["digits"] in found
    assert composition.context["pix"]["payload"] in found


def _line_mismatch(d: dict[str, Any]) -> None:
    d["indemnity"]["lines"][0]["amount"] = "299.99"


def _total_mismatch(d: dict[str, Any]) -> None:
    d["indemnity"]["total"] = "27457.66"


@pytest.mark.parametrize(
    ("name", "mutate", "expected"),
    [
        (
            "sample.json",
            _line_mismatch,
            "indemnity.lines[0].amount: must be quantity × unit_amount",
        ),
        ("sample-death.json", _total_mismatch, "indemnity.total: must be the lines"),
    ],
)
def test_claim_indemnity_must_add_up(
    unsigned_composer: Composer, name: str, mutate: Mutation, expected: str
) -> None:
    data = sample("claim_decision", "pt-PT", name)
    unsigned_composer.prepare("claim_decision", copy.deepcopy(data), locale="pt-PT")
    mutate(data)
    assert any(expected in e for e in refused(unsigned_composer, "claim_decision", data, "pt-PT"))


def test_a_declaration_declares_only_payments_made(unsigned_composer: Composer) -> None:
    data = sample("debt_discharge_declaration")
    data["installments"][0]["paid_on"] = "2031-01-01"
    errors = refused(unsigned_composer, "debt_discharge_declaration", data, "pt-BR")
    assert any("installments[0].paid_on: must not be after issue_date" in e for e in errors)


def test_claim_lines_round_half_up(unsigned_composer: Composer) -> None:
    data = sample("claim_decision", "pt-PT")
    line = data["indemnity"]["lines"][0]
    line.update(quantity=2.5, unit_amount="0.05", amount="0.13")  # 0.125 -> 0.13
    data["indemnity"]["total"] = "0.13"
    del data["indemnity"]["lines"][1:]
    data["indemnity"].pop("deductions", None)
    unsigned_composer.prepare("claim_decision", data, locale="pt-PT")


def test_termination_letters_do_not_state_health_data(unsigned_composer: Composer) -> None:
    data = sample("contract_termination_letter")
    composition = unsigned_composer.prepare("contract_termination_letter", data)
    for channel in (Channel.DOCUMENT, Channel.EMAIL):
        rendering = unsigned_composer.render(composition, channel)
        text = rendering.html if hasattr(rendering, "html") else ""
        assert "não estava internad" not in text
        assert "não permite a rescisão durante a internação do titular" in text


def test_a_model_may_not_shadow_request_data(library_copy: Any, tmp_path: Any) -> None:
    from ccm.bootstrap import build_composer
    from ccm.config import Settings
    from ccm.errors import TemplateError

    schema_path = library_copy / "delinquency_notice" / "pt-BR" / "schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["debt"] = {"type": "object"}  # a name the model derives
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    composer = build_composer(Settings(home=tmp_path, templates_dir=library_copy), sign=False)
    data = sample("delinquency_notice")
    data["debt"] = {"total": "1.00"}
    with pytest.raises(TemplateError, match="derives names the data also has: debt"):
        composer.prepare("delinquency_notice", data)
