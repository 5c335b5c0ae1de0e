"""RN 593 reports: the follow-up workbook read back cell by cell, and the summary arithmetic."""

import json
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ccm.rn593.report import (
    SANDBOX_BANNER,
    Attempt,
    CaseRow,
    compliance_summary,
    follow_up_workbook,
)

GENERATED = datetime(2026, 11, 20, 14, 5, 0)
HEADERS = [
    "Protocolo",
    "Ticket",
    "Nome",
    "CPF",
    "Data da notificação",
    "Atendente",
    "Tentativa 1",
    "Tentativa 2",
    "Tentativa 3",
    "Tentativa 4",
    "Tentativa 5",
    "Já cancelado",
    "Observações",
]


def row(case_id: str, **changes: Any) -> CaseRow:
    base = CaseRow(
        case_id=case_id,
        protocol=f"PRT-{case_id}",
        ticket=f"T-{case_id}",
        name=f"Beneficiária {case_id}",
        cpf="01234567890",
        state="notifying",
        oldest_due_date=date(2026, 9, 10),
        notify_by=date(2026, 10, 30),
        started_on=date(2026, 10, 1),
        proved_on=None,
        proof_channel=None,
        attempts=(),
        cancelled=False,
    )
    return replace(base, **changes)


def proved(case_id: str, channel: str, days: int, **changes: Any) -> CaseRow:
    start = date(2026, 10, 1)
    fields: dict[str, Any] = {
        "state": "proved",
        "started_on": start,
        "proved_on": start + timedelta(days=days),
        "proof_channel": channel,
    }
    return row(case_id, **(fields | changes))


EMAIL_PROVED = proved(
    "A",
    "email",
    2,
    attempts=(
        # Given out of order: the sheet lists them oldest first.
        Attempt(on=date(2026, 10, 3), channel="email", outcome="proved"),
        Attempt(on=date(2026, 10, 1), channel="email", outcome="delivered"),
        Attempt(on=date(2026, 10, 2), channel="agent_call", outcome="failed", attendant="ag-17"),
    ),
    observations="Respondeu pelo e-mail",
)
CALL_PROVED = proved(
    "B",
    "agent_call",
    6,
    attempts=(
        Attempt(on=date(2026, 10, 1), channel="sms", outcome="sent"),
        Attempt(on=date(2026, 10, 7), channel="agent_call", outcome="proved", attendant="ag-03"),
    ),
)
SEVEN_ATTEMPTS = row(
    "C",
    state="exhausted",
    cancelled=True,
    attempts=tuple(
        Attempt(on=date(2026, 10, day), channel="whatsapp", outcome="failed") for day in range(1, 8)
    ),
)


def workbook(rows: list[CaseRow], *, sandbox: bool = False) -> Workbook:
    return load_workbook(BytesIO(follow_up_workbook(rows, generated_at=GENERATED, sandbox=sandbox)))


def lines(sheet: Worksheet) -> list[list[Any]]:
    return [list(values) for values in sheet.iter_rows(values_only=True)]


def by_label(sheet: Worksheet) -> dict[str, list[Any]]:
    """The Resumo sheet as {label in column A: the values after it}."""
    return {str(values[0]): list(values[1:]) for values in lines(sheet) if values[0] is not None}


def test_follow_up_sheet_has_the_operators_columns_and_cells() -> None:
    sheet = workbook([EMAIL_PROVED, CALL_PROVED, SEVEN_ATTEMPTS])["Acompanhamento"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M4"

    a = {HEADERS[i]: cell for i, cell in enumerate(sheet[2])}
    assert a["Protocolo"].value == "PRT-A"
    assert a["CPF"].value == "01234567890"
    assert a["CPF"].data_type == "s"
    assert a["Data da notificação"].value == datetime(2026, 10, 3)
    assert a["Data da notificação"].number_format == "DD/MM/YYYY"
    assert a["Data da notificação"].is_date
    # The proving e-mail names no attendant: the latest agent call's does.
    assert a["Atendente"].value == "ag-17"
    assert a["Tentativa 1"].value == "01/10/2026 · E-mail · entregue, sem comprovação"
    assert a["Tentativa 2"].value == "02/10/2026 · Ligação de atendente · falhou"
    assert a["Tentativa 3"].value == "03/10/2026 · E-mail · comprovada"
    assert a["Tentativa 4"].value is None
    assert a["Já cancelado"].value == "Não"
    assert a["Observações"].value == "Respondeu pelo e-mail"

    b = {HEADERS[i]: cell.value for i, cell in enumerate(sheet[3])}
    assert b["Atendente"] == "ag-03"
    assert b["Data da notificação"] == datetime(2026, 10, 7)

    c = {HEADERS[i]: cell.value for i, cell in enumerate(sheet[4])}
    assert c["Data da notificação"] is None
    assert c["Atendente"] is None
    assert c["Tentativa 1"] == "01/10/2026 · WhatsApp · falhou"
    assert c["Tentativa 5"] == "05/10/2026 · WhatsApp · falhou (+2 tentativas)"
    assert c["Já cancelado"] == "Sim"


def test_the_proving_attempts_attendant_wins_over_a_later_call() -> None:
    case = proved(
        "D",
        "agent_call",
        1,
        attempts=(
            Attempt(on=date(2026, 10, 2), channel="agent_call", outcome="proved", attendant="ag-1"),
            Attempt(on=date(2026, 10, 9), channel="agent_call", outcome="failed", attendant="ag-2"),
        ),
    )
    sheet = workbook([case])["Acompanhamento"]
    assert sheet["F2"].value == "ag-1"


def test_text_is_never_a_formula_and_illegal_characters_are_dropped() -> None:
    case = row("E", name='=HYPERLINK("http://x","y")', observations="linha\x0bquebrada")
    sheet = workbook([case])["Acompanhamento"]
    assert sheet["C2"].value == '=HYPERLINK("http://x","y")'
    assert sheet["C2"].data_type == "s"
    assert sheet["M2"].value == "linhaquebrada"


def test_sandbox_banner_opens_both_sheets() -> None:
    book = workbook([EMAIL_PROVED], sandbox=True)
    follow, summary = book["Acompanhamento"], book["Resumo"]
    assert follow["A1"].value == SANDBOX_BANNER
    assert summary["A1"].value == SANDBOX_BANNER
    assert [c.value for c in follow[2]] == HEADERS
    assert follow.freeze_panes == "A3"
    assert follow.auto_filter.ref == "A2:M3"
    assert follow["A3"].value == "PRT-A"


def test_no_banner_outside_the_sandbox() -> None:
    book = workbook([EMAIL_PROVED], sandbox=False)
    for sheet in book.worksheets:
        assert SANDBOX_BANNER not in {v for line in lines(sheet) for v in line}


def test_summary_sheet_numbers() -> None:
    late = proved("L", "email", 40, notify_by=date(2026, 11, 5))  # proved 10/11, after day 50
    no_deadline = proved("N", "email", 4, notify_by=None)
    rows = [EMAIL_PROVED, CALL_PROVED, SEVEN_ATTEMPTS, late, no_deadline]
    summary = by_label(workbook(rows)["Resumo"])

    assert summary["Gerado em"][0] == GENERATED
    assert summary["Casos no relatório"][0] == 5
    assert summary["Notificação comprovada"][0] == 4
    assert summary["Tentativas esgotadas"][0] == 1
    assert summary["Aberto"][0] == 0
    assert summary["Comprovados até o prazo"][0] == 2
    assert summary["Casos com prazo"][0] == 4
    assert summary["Percentual comprovado até o prazo"][0] == pytest.approx(0.5)
    # Medians in days: e-mail over 2, 40 and 4; agent call over 6.
    assert summary["E-mail"][:2] == [4, 3]
    assert summary["Ligação de atendente"][:2] == [6, 1]

    book = workbook(rows)
    share_cell = next(c for c in book["Resumo"]["B"] if c.value == pytest.approx(0.5))
    assert share_cell.number_format == "0.0%"


def test_summary_of_no_cases() -> None:
    summary = compliance_summary([])
    assert summary.as_json() == {
        "cases": 0,
        "by_state": dict.fromkeys(
            ("open", "notifying", "proved", "exhausted", "paid", "suspended", "terminated"), 0
        ),
        "proved_by_day_50": {"proved": 0, "of": 0, "share": None},
        "median_days_to_proof": {},
    }
    sheet = by_label(workbook([])["Resumo"])
    assert sheet["Percentual comprovado até o prazo"][0] == "sem casos com prazo"
    assert "nenhum caso comprovado" in sheet
    assert workbook([])["Acompanhamento"].max_row == 1


def test_share_counts_a_proof_after_notify_by_as_missed() -> None:
    on_day = proved("1", "sms", 29)  # 30/10: on notify_by, in time
    late = proved("2", "sms", 30)  # 31/10: a day late
    unproved = row("3")
    no_deadline = proved("4", "sms", 1, notify_by=None)
    result = compliance_summary([on_day, late, unproved, no_deadline]).as_json()
    assert result["proved_by_day_50"] == {"proved": 1, "of": 3, "share": pytest.approx(1 / 3)}


def test_medians_by_proof_channel() -> None:
    rows = [
        proved("1", "registered_mail", 3),
        proved("2", "registered_mail", 10),
        proved("3", "registered_mail", 4),
        proved("4", "registered_mail", 20),
        proved("5", "ivr", 7),
        row("6"),  # not proved: not in any median
        row("8", proof_channel="ivr"),  # a channel but no proof date: not counted either
        proved("7", "ivr", 9, started_on=None),  # no ladder start: no days to count
    ]
    result = compliance_summary(rows).as_json()
    assert result["median_days_to_proof"] == {
        "ivr": {"median": 7.0, "cases": 1},
        "registered_mail": {"median": 7.0, "cases": 4},  # (4 + 10) / 2
    }
    assert json.loads(json.dumps(result)) == result


def test_workbook_is_deterministic() -> None:
    rows = [EMAIL_PROVED, CALL_PROVED, SEVEN_ATTEMPTS]
    first = follow_up_workbook(rows, generated_at=GENERATED, sandbox=True)
    assert first == follow_up_workbook(rows, generated_at=GENERATED, sandbox=True)
    with zipfile.ZipFile(BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 11, 20, 14, 5, 0)}
    book = load_workbook(BytesIO(first))
    assert book.properties.created == GENERATED
    assert book.properties.modified == GENERATED


def test_aware_generated_at_shows_local_time_and_offset() -> None:
    brt = timezone(timedelta(hours=-3))
    data = follow_up_workbook([], generated_at=GENERATED.replace(tzinfo=brt), sandbox=False)
    book = load_workbook(BytesIO(data))
    assert by_label(book["Resumo"])["Gerado em"] == [GENERATED, "UTC-03:00"]
    assert book.properties.modified == GENERATED + timedelta(hours=3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: row("X", state="closed"), "unknown state"),
        (lambda: row("X", proof_channel="fax"), "unknown proof channel"),
        (lambda: Attempt(on=date(2026, 10, 1), channel="fax", outcome="sent"), "channel"),
        (lambda: Attempt(on=date(2026, 10, 1), channel="sms", outcome="read"), "outcome"),
    ],
)
def test_rows_refuse_unknown_vocabulary(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
