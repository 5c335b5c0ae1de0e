"""The lint fails when a mandatory element disappears from any channel, and for slow CSS."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccm.bootstrap import build_composer
from ccm.composition.lint import lint_templates
from ccm.config import Settings

Edit = Callable[[Path, str, str], None]
NOTICE = Path("delinquency_notice/pt-BR")


def findings_for(library: Path, tmp_path: Path) -> list[str]:
    composer = build_composer(Settings(home=tmp_path / "home", templates_dir=library), sign=False)
    return [str(f) for f in lint_templates(composer, ["delinquency_notice"])]


def test_the_shipped_notice_is_clean(library_copy: Path, tmp_path: Path) -> None:
    assert findings_for(library_copy, tmp_path) == []


@pytest.mark.parametrize(
    ("source", "old", "new", "expected"),
    [
        # The total disappears from the SMS.
        ("sms.txt.j2", "com debito de {{ debt.total | money }}", "com debito", "'total_due'"),
        # The beneficiaries table disappears from the PDF (the lint reads the PDF's text).
        (
            "document.html.j2",
            "{% for b in beneficiaries %}",
            "{% for b in [] %}",
            "'beneficiary_names' (R20",
        ),
        # The QR code image disappears from the PDF.
        ("document.html.j2", '<img src="{{ pix.qr }}" alt="QR Code PIX">', "", "'pix_qr_code'"),
        # The product's ANS number disappears from the text part of the e-mail only.
        (
            "email.txt.j2",
            "(registro ANS nº {{ plan.ans_product_number }})",
            "",
            "[email] (text): mandatory element 'plan_ans_product_number'",
        ),
        # The reply request disappears from WhatsApp.
        ("whatsapp.txt.j2", "responda *CIENTE* para", "responda para", "'reply_request' (R15"),
        # The deadline disappears from the IVR notice.
        (
            "voice.txt.j2",
            "termina em {{ payment.deadline | date_long }}",
            "termina em breve",
            "'payment_deadline_spoken'",
        ),
    ],
)
def test_a_removed_element_is_reported(
    library_copy: Path, tmp_path: Path, edit: Edit, source: str, old: str, new: str, expected: str
) -> None:
    edit(library_copy / NOTICE / source, old, new)
    findings = findings_for(library_copy, tmp_path)
    assert any(expected in f for f in findings), findings


def test_an_sms_over_budget_is_reported(library_copy: Path, tmp_path: Path, edit: Edit) -> None:
    edit(library_copy / NOTICE / "sms.txt.j2", "Responda CIENTE.", "Responda CIENTE. " + "x" * 80)
    assert any("SMS needs 3 segments" in f for f in findings_for(library_copy, tmp_path))


def test_slow_css_is_reported(library_copy: Path, tmp_path: Path) -> None:
    (library_copy / NOTICE / "document.css").write_text(".facts { display: flex; }\n")
    findings = findings_for(library_copy, tmp_path)
    assert any("document.css: flex/grid layout" in f for f in findings)


@pytest.mark.parametrize(
    ("source", "old", "new", "step"),
    [
        # A voice greeting may not speak of the debt before the identity check.
        (
            "voice.txt.j2",
            "Esta ligação está sendo gravada.",
            "Esta ligação está sendo gravada. Há um débito de {{ debt.total | money }}.",
            "voice step 'recording_notice'",
        ),
        # What the agent says to a dependent may not mention the debt.
        (
            "agent_script.html.j2",
            "Precisamos tratar de um assunto administrativo",
            "Há mensalidades vencidas, precisamos tratar de um assunto administrativo",
            "agent_script step 'third_party'",
        ),
    ],
)
def test_disclosure_outside_the_notice_step_fails(
    library_copy: Path,
    tmp_path: Path,
    edit: Edit,
    notice_data: dict[str, Any],
    source: str,
    old: str,
    new: str,
    step: str,
) -> None:
    edit(library_copy / NOTICE / source, old, new)
    assert any(step in f and "would disclose" in f for f in findings_for(library_copy, tmp_path))
