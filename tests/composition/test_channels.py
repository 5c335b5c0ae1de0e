"""Every channel of the notice: e-mail MIME, SMS, WhatsApp, IVR and agent scripts."""

import email
import re
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from ccm.composition import (
    AgentScriptRendering,
    Channel,
    Composer,
    EmailRendering,
    TextRendering,
    VoiceRendering,
)
from ccm.composition.mime import build_email
from ccm.composition.text import html_to_text, searchable, spoken_text
from ccm.errors import TemplateError

PROTOCOL = "41234520261121000042"


@pytest.fixture
def composition(unsigned_composer: Composer, notice_data: dict[str, Any]) -> Any:
    return unsigned_composer.prepare("delinquency_notice", notice_data, protocol=PROTOCOL)


def test_email_is_a_complete_mime_message(unsigned_composer: Composer, composition: Any) -> None:
    rendering = unsigned_composer.render(composition, Channel.EMAIL)
    assert isinstance(rendering, EmailRendering)
    message = build_email(composition, rendering, attachment=("aviso.pdf", b"%PDF-1.7"))
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "Maria Aparecida dos Santos Oliveira <maria.oliveira@example.com>"
    assert parsed["Message-ID"] == f"<{composition.doc.id}.email@vidaplena.example>"
    assert parsed["Date"] == "Sat, 21 Nov 2026 12:00:00 +0000"
    parts = [p.get_content_type() for p in parsed.walk()]
    assert parts == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    # Both alternatives carry the facts: a reader sees only one of them.
    for body in (searchable(rendering.text), searchable(html_to_text(rendering.html))):
        # Consequence on day 61 of the oldest debt (R6), after the 01/12 deadline.
        assert "R$ 2.653,34" in body and "01/12/2026" in body and "05/12/2026" in body


def test_sms_is_gsm7_in_two_segments_without_a_cpf(
    unsigned_composer: Composer, composition: Any
) -> None:
    rendering = unsigned_composer.render(composition, Channel.SMS)
    assert isinstance(rendering, TextRendering) and rendering.sms is not None
    assert rendering.sms.encoding == "GSM-7" and rendering.sms.segments <= 2
    assert "debito" in rendering.text and "débito" not in rendering.text
    assert f"/d/{composition.doc.id}" in rendering.text
    assert not re.search(r"\d{3}\.\d{3}\.\d{3}-\d{2}", rendering.text)


def test_whatsapp_masks_the_cpf(unsigned_composer: Composer, composition: Any) -> None:
    rendering = unsigned_composer.render(composition, Channel.WHATSAPP)
    assert isinstance(rendering, TextRendering)
    assert "***.197.365-**" in rendering.text
    assert "284.197.365-46" not in rendering.text


def test_ivr_confirms_identity_before_the_notice(
    unsigned_composer: Composer, composition: Any
) -> None:
    rendering = unsigned_composer.render(composition, Channel.VOICE)
    assert isinstance(rendering, VoiceRendering)
    ids = [s.id for s in rendering.steps]
    assert ids == [
        "greeting",
        "recording_notice",
        "identity_intro",
        "identity_cpf_prefix",
        "identity_cpf_suffix",
        "identity_birth_year",
        "identity_failed",
        "notice",
        "options",
        "goodbye",
        "dispute_recorded",
        "transfer",
    ]
    gathers = {s.id: s.gather_digits for s in rendering.steps if s.gather_digits}
    assert gathers == {"identity_cpf_prefix": 3, "identity_cpf_suffix": 2, "identity_birth_year": 4}
    before = " ".join(s.text for s in rendering.steps[: ids.index("notice")])
    assert "R$" not in before and "débito" not in before and "gravada" in before
    notice = rendering.steps[ids.index("notice")]
    assert notice.discloses and "R$ 2.653,34" in notice.text.replace("\xa0", " ")
    # What the person types is never in the script: only which item to ask for.
    assert "284" not in before and "1979" not in before


def test_agent_script_puts_the_protocol_first(
    unsigned_composer: Composer, composition: Any
) -> None:
    rendering = unsigned_composer.render(composition, Channel.AGENT_SCRIPT)
    assert isinstance(rendering, AgentScriptRendering)
    assert [s.id for s in rendering.steps][:3] == ["protocol", "recording_notice", "identity_check"]
    first_said = spoken_text(rendering.steps[0].text)
    assert PROTOCOL in first_said
    assert rendering.html.index(PROTOCOL) < rendering.html.index('id="step-recording_notice"')
    said_to_third_party = spoken_text(rendering.steps[5].text)
    assert rendering.steps[5].id == "third_party"
    assert "R$" not in said_to_third_party and "débito" not in said_to_third_party
    assert "CPF" in html_to_text(rendering.steps[2].text)


def test_agent_script_needs_a_protocol(
    unsigned_composer: Composer, notice_data: dict[str, Any]
) -> None:
    composition = unsigned_composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateError, match="protocol number"):
        unsigned_composer.render(composition, Channel.AGENT_SCRIPT)
