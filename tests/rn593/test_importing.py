"""Importing an operator's file of overdue contracts: the samples, each format's quirks and
every problem named by its sheet, line and column."""

import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ccm.errors import DataValidationError
from ccm.rn593.case import ContractType
from ccm.rn593.casefile import CaseFile
from ccm.rn593.importing import read_cases

SAMPLES = Path(__file__).parents[2] / "ccm" / "rn593" / "samples"

ROW = {
    "contract_id": "VP-2022-0081234", "contract_type": "individual",
    "pays_operator_directly": "sim", "plan_name": "Vida Plena Individual",
    "plan_ans_product_number": "452.118/18-7", "payer_name": "Carla Mendes",
    "payer_cpf": "555.176.690-00", "payer_role": "titular", "competence": "2026-10",
    "due_date": "2026-10-10", "amount": "512.30",
}  # fmt: skip


def csv_bytes(*rows: dict[str, str], delimiter: str = ",") -> bytes:
    header = list(rows[0])
    lines = [delimiter.join(header)] + [delimiter.join(row[c] for c in header) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(**changes: str) -> dict[str, str]:
    return ROW | changes


def problems(data: bytes, filename: str = "contratos.csv") -> dict[str, str]:
    with pytest.raises(DataValidationError) as raised:
        read_cases(data, filename=filename)
    found = {error.path: error.message for error in raised.value.errors}
    assert len(found) == len(raised.value.errors), "one problem per path"
    return found


def sample(name: str) -> list[CaseFile]:
    return read_cases((SAMPLES / name).read_bytes(), filename=name)


# -- the samples ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cases.csv", "cases.xlsx"])
def test_the_samples_read_into_three_cases_in_file_order(name: str) -> None:
    familiar, individual, business = sample(name)

    assert [c.case.contract.type for c in (familiar, individual, business)] == [
        ContractType.FAMILIAR, ContractType.INDIVIDUAL, ContractType.COLETIVO_EMPRESARIAL
    ]  # fmt: skip
    assert [c.case.contract.pays_operator_directly for c in (familiar, individual, business)] == [
        True, True, False
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["cases.csv", "cases.xlsx"])
def test_the_familiar_sample_has_two_unpaid_installments_and_usable_contacts(name: str) -> None:
    familiar = sample(name)[0]

    installments = familiar.case.installments
    assert [i.due_date for i in installments] == [date(2026, 10, 13), date(2026, 11, 12)]
    assert [i.paid_on for i in installments] == [None, None]
    assert installments[0].amount == Decimal("1287.40")
    assert familiar.contacts.phone is not None and familiar.contacts.phone.usable
    assert familiar.contacts.phone.value == "+5511987654321"
    assert familiar.contacts.email is not None and familiar.contacts.email.usable
    assert familiar.contacts.address is not None and familiar.contacts.address.usable
    assert familiar.contacts.address.value.postal_code == "04107-020"
    assert [(b.name, b.relationship) for b in familiar.beneficiaries] == [
        ("Maria Aparecida Souza", "titular"),
        ("João Pedro Souza", "dependente"),
        ("Ana Clara Souza", "dependente"),
    ]
    assert familiar.payer_birth_date == date(1979, 3, 22)
    assert familiar.ticket == "COB-2026-11-00412"


@pytest.mark.parametrize("name", ["cases.csv", "cases.xlsx"])
def test_the_individual_sample_has_a_phone_without_provenance(name: str) -> None:
    individual = sample(name)[1]

    assert [i.paid_on is None for i in individual.case.installments] == [False, True, True]
    assert individual.case.installments[1].operator_caused_delay_days == 3
    phone = individual.contacts.phone
    assert phone is not None and phone.value == "+5531991234567"
    assert (phone.source, phone.usable) == (None, False)
    assert individual.contacts.email is not None and individual.contacts.email.usable
    # No beneficiaries column value: the payer alone, as titular.
    assert [(b.cpf, b.relationship) for b in individual.beneficiaries] == [
        ("911.048.256-35", "titular")
    ]


def test_the_xlsx_sample_attaches_the_hospitalization_and_the_answered_dispute() -> None:
    familiar, individual, business = sample("cases.xlsx")

    assert [(h.from_, h.to) for h in familiar.case.hospitalizations] == [
        (date(2026, 11, 2), date(2026, 11, 9))
    ]
    assert [(d.opened_on, d.answered_on) for d in individual.case.disputes] == [
        (date(2026, 10, 15), date(2026, 10, 22))
    ]
    assert not business.case.hospitalizations and not business.case.disputes
    assert sample("cases.csv")[0].case.hospitalizations == ()


# -- formats ----------------------------------------------------------------------------


def test_semicolons_brazilian_amounts_and_dates_and_a_bom_are_read() -> None:
    contract = row(pays_operator_directly="não", paid_on="")
    data = b"\xef\xbb\xbf" + csv_bytes(
        contract | {"amount": "1.287,40", "due_date": "10/10/2026"},
        contract | {"amount": "1287,4", "competence": "11/2026", "due_date": "10/11/2026",
                    "paid_on": "12/11/2026"},
        delimiter=";",
    )  # fmt: skip

    (case_file,) = read_cases(data, filename="CONTRATOS.CSV")

    installments = case_file.case.installments
    assert [i.amount for i in installments] == [Decimal("1287.40"), Decimal("1287.40")]
    assert [i.due_date for i in installments] == [date(2026, 10, 10), date(2026, 11, 10)]
    assert installments[1].competence == "2026-11"
    assert installments[1].paid_on == date(2026, 11, 12)
    assert case_file.case.contract.pays_operator_directly is False


def test_xlsx_date_cells_numbers_and_a_first_sheet_with_another_name_are_read() -> None:
    header = [*ROW, "phone", "paid_on"]
    values = [*ROW.values(), "(11) 3456-7890", date(2026, 10, 12)]
    values[header.index("due_date")] = date(2026, 10, 10)
    values[header.index("amount")] = 512.3
    values[header.index("competence")] = date(2026, 10, 1)  # Excel made "2026-10" a date

    (case_file,) = read_cases(xlsx_bytes({"Planilha1": [header, values]}), filename="a.xlsx")

    (installment,) = case_file.case.installments
    assert (installment.competence, installment.due_date) == ("2026-10", date(2026, 10, 10))
    assert (installment.amount, installment.paid_on) == (Decimal("512.3"), date(2026, 10, 12))
    assert case_file.contacts.phone is not None
    assert case_file.contacts.phone.value == "+551134567890"


def test_json_reads_one_case_or_a_list_of_them() -> None:
    cases = sample("cases.xlsx")
    listed = json.dumps([c.model_dump(mode="json", by_alias=True) for c in cases]).encode()
    single = cases[0].model_dump_json(by_alias=True).encode()

    assert read_cases(listed, filename="cases.json") == cases
    assert read_cases(single, filename="case.JSON") == [cases[0]]


def test_json_problems_are_named_by_their_path_in_the_document() -> None:
    document = [sample("cases.csv")[0].model_dump(mode="json", by_alias=True) for _ in range(2)]
    document[0]["case"]["installments"][1]["due_date"] = "12/11/2026"
    document[1]["case"]["payer"]["role"] = "dependente"

    found = problems(json.dumps(document).encode(), "cases.json")

    assert set(found) == {"cases[0].case.installments[1].due_date", "cases[1].case.payer.role"}
    assert found["cases[1].case.payer.role"].startswith("rule R12:")


def test_json_refuses_the_same_contract_twice_and_text_that_is_not_json() -> None:
    case_file = sample("cases.csv")[2].model_dump(mode="json", by_alias=True)

    twice = problems(json.dumps([case_file, case_file]).encode(), "c.json")
    assert twice == {"cases[1].case.contract.id": "the same contract as cases[0]"}
    assert set(problems(b"{not json", "c.json")) == {"file"}
    assert problems(b"[]", "c.json") == {"file": "no cases"}


# -- problems ---------------------------------------------------------------------------


def test_a_bad_date_is_named_by_its_line_and_column() -> None:
    data = csv_bytes(row(), row(competence="2026-11", due_date="2026-11-31"))

    assert problems(data) == {"parcelas[3].due_date": "must be a date YYYY-MM-DD or DD/MM/YYYY"}


def test_every_problem_in_the_file_is_reported_at_once() -> None:
    data = csv_bytes(
        row(amount="R$ 12x"),
        row(contract_id="VP-2", payer_cpf="555.176.690-01", contract_type="familia"),
        row(contract_id="VP-3", pays_operator_directly="talvez", competence="2026-13"),
    )

    found = problems(data)

    assert found == {
        "parcelas[2].amount": "must be an amount like 1287.40, 1287,40 or 1.287,40",
        "parcelas[3].contract_type": found["parcelas[3].contract_type"],
        "parcelas[4].pays_operator_directly": "must be sim or nao (or true/false, yes/no, 1/0)",
        "parcelas[4].competence": "must be a month YYYY-MM or MM/YYYY",
    }
    assert "coletivo_empresarial" in found["parcelas[3].contract_type"]


def test_wrong_cpf_check_digits_are_refused_once_the_pattern_passes() -> None:
    found = problems(csv_bytes(row(payer_cpf="555.176.690-01")))

    # Without a beneficiaries column the payer is the titular too: one problem, one cell.
    assert found == {"parcelas[2].payer_cpf": "invalid CPF check digits"}


def test_a_cpf_that_does_not_look_like_one_is_named() -> None:
    beneficiaries = "Carla Mendes:555.176.690-00:titular|Rui Mendes:12345:dependente"
    found = problems(csv_bytes(row(payer_cpf="555176.69000x", beneficiaries=beneficiaries)))

    assert found == {
        "parcelas[2].payer_cpf": "must be a CPF like 284.197.365-46",
        "parcelas[2].beneficiaries": "entry 2 cpf: must be a CPF like 284.197.365-46",
    }


def test_a_beneficiary_entry_without_three_parts_is_named() -> None:
    found = problems(csv_bytes(row(beneficiaries="Carla Mendes:555.176.690-00")))

    assert found == {"parcelas[2].beneficiaries": "entry 1 must be Name:CPF:relationship"}


def test_a_dependent_payer_is_refused_by_rule_r12() -> None:
    found = problems(csv_bytes(row(), row(contract_id="VP-9", payer_role="Dependente")))

    assert list(found) == ["parcelas[3].payer_role"]
    assert found["parcelas[3].payer_role"].startswith("rule R12: ")


def test_contract_columns_must_agree_across_the_contracts_lines() -> None:
    data = csv_bytes(
        row(),
        row(competence="2026-11", due_date="2026-11-10", plan_name="Vida Plena Plus"),
        row(competence="2026-12", due_date="2026-12-10", payer_cpf="555.176.69000"),
    )

    assert problems(data) == {
        "parcelas[3].plan_name": "differs from line 2 of the same contract",
        "parcelas[4].payer_cpf": "differs from line 2 of the same contract",
    }


def test_an_unknown_column_is_named_and_a_misspelt_one_is_also_missing() -> None:
    misspelt = {("due_dat" if k == "due_date" else k): v for k, v in ROW.items()}

    assert problems(csv_bytes(misspelt)) == {
        "parcelas[1].due_dat": "unknown column; did you mean due_date?",
        "parcelas[1].due_date": "required column is missing",
    }


def test_a_missing_required_column_is_named() -> None:
    without_amount = {k: v for k, v in ROW.items() if k != "amount"}

    assert problems(csv_bytes(without_amount)) == {
        "parcelas[1].amount": "required column is missing"
    }


def test_contact_details_without_the_contact_are_refused() -> None:
    found = problems(csv_bytes(row(email="", email_source="contractor", phone="12")))

    assert found == {
        "parcelas[2].email_source": "given without email",
        "parcelas[2].phone": "must be a phone number like +55 11 98765-4321 or (11) 98765-4321",
    }


def test_an_extra_sheet_row_for_an_unknown_contract_is_named() -> None:
    data = xlsx_bytes({
        "parcelas": [list(ROW), list(ROW.values())],
        "internacoes": [["contract_id", "from", "to"],
                        [ROW["contract_id"], "02/11/2026", "2026-11-09"],
                        ["VP-0000-0000000", "2026-11-02", None]],
    })  # fmt: skip

    assert problems(data, "a.xlsx") == {
        "internacoes[3].contract_id": "unknown contract 'VP-0000-0000000'",
    }


def test_a_misspelt_column_on_an_extra_sheet_is_named() -> None:
    data = xlsx_bytes({
        "parcelas": [list(ROW), list(ROW.values())],
        "contestacoes": [["contract_id", "opened_on", "answerd_on"]],
    })  # fmt: skip

    assert problems(data, "a.xlsx") == {
        "contestacoes[1].answerd_on": "unknown column; did you mean answered_on?",
    }


def test_an_extra_sheets_model_rule_points_at_its_cell() -> None:
    data = xlsx_bytes({
        "parcelas": [list(ROW), list(ROW.values())],
        "Internações": [["contract_id", "from", "to"],
                        [ROW["contract_id"], date(2026, 11, 9), date(2026, 11, 2)]],
        "acordos": [["contract_id", "signed_on", "status"],
                    [ROW["contract_id"], "2026-11-01", "cancelled"]],
    })  # fmt: skip

    assert problems(data, "a.xlsx") == {
        "Internações[2].to": "before from",
        "acordos[2].status": "must be active or broken",
    }


def test_an_unknown_sheet_with_content_is_named() -> None:
    data = xlsx_bytes({"parcelas": [list(ROW), list(ROW.values())], "notas": [["x"]]})

    assert problems(data, "a.xlsx") == {
        "notas": "unknown or repeated sheet; expected parcelas, internacoes, contestacoes, acordos"
    }


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "a.csv"),
        (b"\xef\xbb\xbf \n", "a.csv"),
        (csv_bytes(ROW).splitlines()[0] + b"\n", "a.csv"),
        (xlsx_bytes({"parcelas": [list(ROW)]}), "a.xlsx"),
        (xlsx_bytes({"parcelas": []}), "a.xlsx"),
    ],
    ids=["empty", "bom-and-blank", "csv-header-only", "xlsx-header-only", "xlsx-empty"],
)
def test_a_file_without_rows_is_refused(data: bytes, filename: str) -> None:
    assert problems(data, filename) == {"file": "no rows"}


def test_other_extensions_and_unreadable_files_are_refused() -> None:
    accepted = "accepted: .csv, .xlsx, .json"
    assert problems(b"a,b", "contratos.txt") == {
        "file": f"unsupported file type '.txt'; {accepted}"
    }
    assert problems(b"a,b", "contratos") == {
        "file": f"unsupported file type 'contratos'; {accepted}"
    }
    assert problems(b"not a zip", "a.xlsx") == {"file": "not a readable .xlsx workbook"}
    assert problems("contract_id\né".encode("latin-1"), "a.csv") == {"file": "must be UTF-8 text"}
