"""``/d/{document_id}``: the page every message links to (pt-BR, phone first).

No API key: the recipient opens it from the message. Nothing personal is shown; the
recipient confirms the first CPF digits and answers "Li e estou ciente" or "Quero
questionar o débito" (see :mod:`ccm.service.confirmation`).
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import Services, services
from ccm.service.communications import CommunicationRecord
from ccm.service.confirmation import (
    IDENTITY_DIGITS,
    Check,
    PageAnswer,
    check_identity,
    communication_for_document,
    record_answer,
    record_open,
)

__all__ = ["answer_page", "notice_page", "open_pixel", "router"]

# The smallest transparent GIF (1x1).
_PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)

router = APIRouter(tags=["recipient pages"], include_in_schema=False)
_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "pages"),
    autoescape=select_autoescape(["j2"], default_for_string=True),
)
_BRASILIA = ZoneInfo("America/Sao_Paulo")
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _render(
    svc: Services, record: CommunicationRecord | None, status: int, **context: Any
) -> HTMLResponse:
    operator: dict[str, Any] = (record.data.get("operator") or {}) if record else {}
    html = _PAGES.get_template("confirmation.html.j2").render(
        title="Aviso da sua operadora",
        operator=operator.get("name", "operadora"),
        phone=operator.get("phone"),
        sandbox=svc.settings.smtp_url is None,
        digits=IDENTITY_DIGITS,
        action=f"/d/{record.document_id}" if record else "",
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _client(request: Request) -> dict[str, Any]:
    """Who loaded the page or the pixel, as kept in the evidence."""
    return {
        "ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent", "")[:300],
    }


@router.get("/d/{document_id}", response_class=HTMLResponse)
def notice_page(document_id: str, svc: Annotated[Services, Depends(services)]) -> HTMLResponse:
    record = communication_for_document(svc.engine, document_id[:64])
    if record is None:
        return _render(svc, None, 404, state="unknown")
    return _render(svc, record, 200, state="ask")


@router.post("/d/{document_id}", response_class=HTMLResponse)
def answer_page(
    document_id: str,
    request: Request,
    svc: Annotated[Services, Depends(services)],
    cpf_digits: Annotated[str, Form(max_length=20)] = "",
    answer: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    record = communication_for_document(svc.engine, document_id[:64])
    if record is None:
        return _render(svc, None, 404, state="unknown")
    if answer not in {a.value for a in PageAnswer}:
        return _render(svc, record, 422, state="ask")
    now = datetime.now(UTC)
    outcome, remaining = check_identity(svc.engine, record, cpf_digits, now=now)
    if outcome is Check.LOCKED:
        return _render(svc, record, 429, state="locked")
    if outcome is Check.WRONG:
        return _render(svc, record, 422, state="wrong", remaining=remaining)
    record_answer(
        svc.engine, svc.store, record, PageAnswer(answer), client=_client(request), now=now
    )
    at = now.astimezone(_BRASILIA).strftime("%d/%m/%Y %H:%M")
    return _render(svc, record, 200, state="done", answer=answer, at=at)


@router.get("/p/{document_id}.gif")
def open_pixel(
    document_id: str, request: Request, svc: Annotated[Services, Depends(services)]
) -> Response:
    """The e-mail's open pixel: its first load is recorded as weak evidence of an opening
    (mail programs and proxies load images on their own: never a proof)."""
    record = communication_for_document(svc.engine, document_id[:64])
    if record is not None and "email" in record.channels:
        record_open(svc.engine, svc.store, record, client=_client(request), now=datetime.now(UTC))
    return Response(_PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})
