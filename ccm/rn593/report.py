"""RN 593 reports: the operator's follow-up spreadsheet and a compliance summary.

Pure functions of plain rows the caller has already read (no database, no clock): the same
rows and ``generated_at`` give the same bytes. The spreadsheet is in pt-BR, the code and the
JSON keys in English.

Choices the brief left open, stated once here:

- attempts are listed oldest first (ties keep the caller's order); past five, the fifth
  cell also says how many more there are ("+2 tentativas");
- *Atendente* is the attendant of the proving attempt (the earliest ``proved`` attempt,
  preferring one on the case's ``proof_channel``) when it has one, else that of the latest
  agent call that names one;
- every text cell is written as text, so a name or observation starting with ``=`` is never
  a formula, and characters a spreadsheet cannot hold are dropped;
- an aware ``generated_at`` is shown at its own wall-clock time with its UTC offset beside
  it; the workbook's core properties hold it in UTC (a naive one is taken as UTC there).
"""

import statistics
import zipfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ccm.rn593.case import NoticeChannel

__all__ = [
    "ATTEMPT_OUTCOMES",
    "CASE_STATES",
    "CHANNEL_LABELS",
    "OUTCOME_LABELS",
    "SANDBOX_BANNER",
    "STATE_LABELS",
    "Attempt",
    "CaseRow",
    "ChannelMedian",
    "ComplianceSummary",
    "compliance_summary",
    "follow_up_workbook",
]

CASE_STATES = ("open", "notifying", "proved", "exhausted", "paid", "suspended", "terminated")
"""As :class:`ccm.service.cases.CaseState`."""
ATTEMPT_OUTCOMES = (
    "proved",
    "open",
    "delivered",
    "sent",
    "failed",
    "cancelled",
    "skipped",
    "pending",
)
SANDBOX_BANNER = "AMBIENTE DE TESTE (sandbox) — nenhuma mensagem foi enviada de verdade"

STATE_LABELS: dict[str, str] = {
    "open": "Aberto",
    "notifying": "Em notificação",
    "proved": "Notificação comprovada",
    "exhausted": "Tentativas esgotadas",
    "paid": "Pago",
    "suspended": "Contrato suspenso",
    "terminated": "Contrato rescindido",
}
CHANNEL_LABELS: dict[str, str] = {
    NoticeChannel.EMAIL: "E-mail",
    NoticeChannel.SMS: "SMS",
    NoticeChannel.WHATSAPP: "WhatsApp",
    NoticeChannel.IVR: "URA",
    NoticeChannel.AGENT_CALL: "Ligação de atendente",
    NoticeChannel.REGISTERED_MAIL: "Carta com AR",
    NoticeChannel.IN_PERSON: "Presencial",
}
OUTCOME_LABELS: dict[str, str] = {
    "proved": "comprovada",
    "open": "enviada, sem comprovação",
    "delivered": "entregue, sem comprovação",
    "sent": "enviada",
    "failed": "falhou",
    "cancelled": "cancelada",
    "skipped": "não enviada",
    "pending": "pendente",
}
_ATTEMPT_COLUMNS = 5
_DATE_FORMAT = "DD/MM/YYYY"
_MAX_CELL_TEXT = 32_767  # Excel refuses longer cells ("repairs" the file)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One notice attempt of a case's ladder."""

    on: date
    """When the attempt was made (sent)."""
    channel: str
    """A :class:`~ccm.rn593.case.NoticeChannel` value."""
    outcome: str
    """One of :data:`ATTEMPT_OUTCOMES`."""
    attendant: str | None = None
    """The agent's id, for agent calls."""
    round: int = 1
    """The ladder's round the attempt belongs to (a new round runs on new contact data)."""

    def __post_init__(self) -> None:
        if self.channel not in CHANNEL_LABELS:
            raise ValueError(f"attempt channel: unknown {self.channel!r}")
        if self.outcome not in OUTCOME_LABELS:
            raise ValueError(f"attempt outcome: unknown {self.outcome!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRow:
    """One delinquency case as the reports read it.

    Raises:
        ValueError: an unknown state or proof channel, or a proof before the ladder start.
    """

    case_id: str
    protocol: str | None
    ticket: str | None
    name: str
    cpf: str
    """As the caller formats it; written as text so leading zeros stay."""
    state: str
    """One of :data:`CASE_STATES`."""
    oldest_due_date: date | None
    notify_by: date | None
    """The day-50 deadline to prove the notice (R2)."""
    started_on: date | None
    """The ladder start (first attempt)."""
    proved_on: date | None
    proof_channel: str | None
    attempts: tuple[Attempt, ...]
    cancelled: bool
    """Whether the contract is already suspended or terminated."""
    observations: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATE_LABELS:
            raise ValueError(f"case {self.case_id}: unknown state {self.state!r}")
        if self.proof_channel is not None and self.proof_channel not in CHANNEL_LABELS:
            raise ValueError(f"case {self.case_id}: unknown proof channel {self.proof_channel!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelMedian:
    """Median days from the ladder start to the proof, for cases proved on one channel."""

    channel: str
    median_days: float
    cases: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceSummary:
    """How a set of cases stands against RN 593."""

    cases: int
    by_state: tuple[tuple[str, int], ...]
    """Every state of :data:`CASE_STATES`, in that order, with its count (zeros included)."""
    proved_by_day_50: int
    """Cases proved on or before their ``notify_by``."""
    with_notify_by: int
    """Cases that have a ``notify_by``: the denominator of :attr:`share_proved_by_day_50`."""
    median_days_to_proof: tuple[ChannelMedian, ...]
    """By proof channel; cases without a proof, a start or a proof channel are left out."""

    @property
    def share_proved_by_day_50(self) -> float | None:
        """The share of cases with a ``notify_by`` proved by it; None when none has one."""
        if not self.with_notify_by:
            return None
        return self.proved_by_day_50 / self.with_notify_by

    def as_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data.

        Returns:
            ``{"cases", "by_state", "proved_by_day_50": {"proved", "of", "share"},
            "median_days_to_proof": {channel: {"median", "cases"}}}``.
        """
        return {
            "cases": self.cases,
            "by_state": dict(self.by_state),
            "proved_by_day_50": {
                "proved": self.proved_by_day_50,
                "of": self.with_notify_by,
                "share": self.share_proved_by_day_50,
            },
            "median_days_to_proof": {
                m.channel: {"median": m.median_days, "cases": m.cases}
                for m in self.median_days_to_proof
            },
        }


def compliance_summary(rows: Sequence[CaseRow]) -> ComplianceSummary:
    """Summarise cases: counts by state, proofs by day 50, median days to proof by channel.

    Parameters:
        rows: the cases.

    Returns:
        The summary; an empty input gives zeros and a ``None`` share.
    """
    states = Counter(row.state for row in rows)
    deadlines = [(row.notify_by, row.proved_on) for row in rows if row.notify_by is not None]
    on_time = sum(1 for notify_by, proved_on in deadlines if proved_on and proved_on <= notify_by)
    days: defaultdict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.proved_on and row.started_on and row.proof_channel:
            days[row.proof_channel].append((row.proved_on - row.started_on).days)
    return ComplianceSummary(
        cases=len(rows),
        by_state=tuple((state, states[state]) for state in CASE_STATES),
        proved_by_day_50=on_time,
        with_notify_by=len(deadlines),
        median_days_to_proof=tuple(
            ChannelMedian(channel=str(c), median_days=float(statistics.median(d)), cases=len(d))
            for c in CHANNEL_LABELS
            if (d := days.get(c))
        ),
    )


def follow_up_workbook(rows: Sequence[CaseRow], *, generated_at: datetime, sandbox: bool) -> bytes:
    """Build the operator's follow-up spreadsheet (``.xlsx``): one line per case, in the
    given order, on "Acompanhamento", and the compliance summary on "Resumo".

    Parameters:
        rows: the cases.
        generated_at: when the report is made; shown on "Resumo" and stamped as the
            workbook's creation and modification time and the archive's entry times.
        sandbox: whether the rows come from sandbox data; both sheets then open with
            :data:`SANDBOX_BANNER`.

    Returns:
        The workbook, byte-for-byte the same for the same arguments.
    """
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    _write_follow_up(workbook.create_sheet("Acompanhamento"), rows, sandbox=sandbox)
    _write_summary(
        workbook.create_sheet("Resumo"),
        compliance_summary(rows),
        generated_at=generated_at,
        sandbox=sandbox,
    )
    utc = generated_at.astimezone(UTC) if generated_at.tzinfo else generated_at
    workbook.properties.creator = "ccm"
    workbook.properties.title = "RN 593 — acompanhamento das notificações"
    workbook.properties.created = workbook.properties.modified = utc.replace(tzinfo=None)
    # openpyxl's save_workbook() stamps "modified" with the current time; ExcelWriter does not.
    buffer = BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _restamped(buffer.getvalue(), generated_at)


_HEADERS = (
    ("Protocolo", 18),
    ("Ticket", 14),
    ("Nome", 32),
    ("CPF", 16),
    ("Data da notificação", 14),
    ("Atendente", 16),
    *((f"Tentativa {n}", 46) for n in range(1, _ATTEMPT_COLUMNS + 1)),
    ("Já cancelado", 12),
    ("Observações", 48),
)
_BOLD = Font(bold=True)
_BANNER_FONT = Font(bold=True, color="9C0006")
_BANNER_FILL = PatternFill("solid", fgColor="FFC7CE")
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def _write_follow_up(sheet: Worksheet, rows: Sequence[CaseRow], *, sandbox: bool) -> None:
    header = _banner(sheet, columns=len(_HEADERS)) if sandbox else 1
    for column, (title, width) in enumerate(_HEADERS, start=1):
        cell = _text(sheet, header, column, title)
        cell.font = _BOLD
        cell.alignment = _WRAP_TOP
        sheet.column_dimensions[get_column_letter(column)].width = width
    for line, row in enumerate(rows, start=header + 1):
        attempts = sorted(row.attempts, key=lambda a: a.on)
        values: list[str | date | None] = [
            row.protocol,
            row.ticket,
            row.name,
            row.cpf,
            row.proved_on,
            _attendant(row, attempts),
            *_attempt_cells(attempts),
            "Sim" if row.cancelled else "Não",
            row.observations,
        ]
        for column, value in enumerate(values, start=1):
            if isinstance(value, date):
                _date(sheet, line, column, value)
            elif value:
                _text(sheet, line, column, value).alignment = _WRAP_TOP
    last = get_column_letter(len(_HEADERS))
    sheet.freeze_panes = f"A{header + 1}"
    sheet.auto_filter.ref = f"A{header}:{last}{header + len(rows)}"


def _attendant(row: CaseRow, attempts: list[Attempt]) -> str | None:
    proving = [a for a in attempts if a.outcome == "proved"]
    proving.sort(key=lambda a: a.channel != row.proof_channel)  # stable: earliest first
    if proving and proving[0].attendant:
        return proving[0].attendant
    calls = [a for a in attempts if a.channel == NoticeChannel.AGENT_CALL and a.attendant]
    return calls[-1].attendant if calls else None


def _attempt_cells(attempts: list[Attempt]) -> list[str | None]:
    cells: list[str | None] = [
        ("" if a.round == 1 else f"{a.round}ª rodada · ")
        + f"{a.on:%d/%m/%Y} · {CHANNEL_LABELS[a.channel]} · {OUTCOME_LABELS[a.outcome]}"
        for a in attempts[:_ATTEMPT_COLUMNS]
    ]
    more = len(attempts) - _ATTEMPT_COLUMNS
    if more > 0:
        cells[-1] = f"{cells[-1]} (+{more} {'tentativa' if more == 1 else 'tentativas'})"
    return cells + [None] * (_ATTEMPT_COLUMNS - len(cells))


def _write_summary(
    sheet: Worksheet, summary: ComplianceSummary, *, generated_at: datetime, sandbox: bool
) -> None:
    line = _banner(sheet, columns=3) if sandbox else 1
    sheet.column_dimensions["A"].width = 44
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 12
    _text(sheet, line, 1, "Resumo de conformidade — RN 593").font = Font(bold=True, size=13)
    _text(sheet, line + 1, 1, "Gerado em")
    stamp = sheet.cell(line + 1, 2, generated_at.replace(tzinfo=None))
    stamp.number_format = "DD/MM/YYYY HH:MM"
    stamp.alignment = Alignment(horizontal="left")
    if (offset := generated_at.utcoffset()) is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        _text(sheet, line + 1, 3, f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    _text(sheet, line + 2, 1, "Casos no relatório")
    sheet.cell(line + 2, 2, summary.cases)

    line += 4
    _headings(sheet, line, "Situação", "Casos")
    for state, count in summary.by_state:
        line += 1
        _text(sheet, line, 1, STATE_LABELS[state])
        sheet.cell(line, 2, count)

    line += 2
    _headings(sheet, line, "Comprovação até o dia 50 (prazo da notificação)", "Casos")
    _text(sheet, line + 1, 1, "Comprovados até o prazo")
    sheet.cell(line + 1, 2, summary.proved_by_day_50)
    _text(sheet, line + 2, 1, "Casos com prazo")
    sheet.cell(line + 2, 2, summary.with_notify_by)
    _text(sheet, line + 3, 1, "Percentual comprovado até o prazo")
    share = summary.share_proved_by_day_50
    if share is None:
        _text(sheet, line + 3, 2, "sem casos com prazo")
    else:
        sheet.cell(line + 3, 2, share).number_format = "0.0%"

    line += 5
    _headings(sheet, line, "Canal da comprovação", "Mediana de dias até a comprovação", "Casos")
    if not summary.median_days_to_proof:
        _text(sheet, line + 1, 1, "nenhum caso comprovado")
    for at, median in enumerate(summary.median_days_to_proof, start=line + 1):
        _text(sheet, at, 1, CHANNEL_LABELS[median.channel])
        sheet.cell(at, 2, median.median_days).number_format = "0.0"
        sheet.cell(at, 3, median.cases)


def _banner(sheet: Worksheet, *, columns: int) -> int:
    """Write the sandbox banner on the first line; returns the next line."""
    cell = _text(sheet, 1, 1, SANDBOX_BANNER)
    cell.font = _BANNER_FONT
    cell.fill = _BANNER_FILL
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    return 2


def _headings(sheet: Worksheet, line: int, *titles: str) -> None:
    for column, title in enumerate(titles, start=1):
        cell = _text(sheet, line, column, title)
        cell.font = _BOLD
        cell.alignment = _WRAP_TOP


def _text(sheet: Worksheet, line: int, column: int, value: str) -> Cell:
    cell = sheet.cell(line, column, ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_TEXT])
    cell.data_type = "s"  # openpyxl would otherwise make "=..." a formula
    cell.number_format = "@"
    return cell


def _date(sheet: Worksheet, line: int, column: int, value: date) -> None:
    sheet.cell(line, column, value).number_format = _DATE_FORMAT


def _restamped(xlsx: bytes, generated_at: datetime) -> bytes:
    """Rewrite the archive with every entry dated ``generated_at`` (zipfile stamps the
    current time on entries written by name)."""
    wall = generated_at.replace(tzinfo=None)
    stamp = (max(wall.year, 1980), wall.month, wall.day, wall.hour, wall.minute, wall.second)
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry))
    return out.getvalue()
