"""Template sources cannot reach Python internals, mutate data or print undefined names."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccm.bootstrap import build_composer
from ccm.composition import Channel, DocumentRendering
from ccm.composition.lint import lint_templates
from ccm.config import Settings
from ccm.errors import TemplateSecurityError, TemplateSourceError

Edit = Callable[[Path, str, str], None]
SMS = "delinquency_notice/pt-BR/sms.txt.j2"
ANCHOR = "Responda CIENTE."


def composer_for(library: Path, tmp_path: Path) -> Any:
    return build_composer(Settings(home=tmp_path / "home", templates_dir=library), sign=False)


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ payer.__class__ }}",
        "{{ payer['__class__'] }}",
        "{{ payer | attr('__class__') }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_private_attribute_access_is_refused_when_loaded(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any], payload: str
) -> None:
    edit(library_copy / SMS, ANCHOR, ANCHOR + payload)
    composer = composer_for(library_copy, tmp_path)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateSecurityError, match="is not allowed in templates"):
        composer.render(composition, Channel.SMS)
    findings = [str(f) for f in lint_templates(composer, ["delinquency_notice"])]
    assert any("sms.txt.j2" in f and "not allowed" in f for f in findings)


def test_names_built_at_run_time_are_stopped_by_the_sandbox(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any]
) -> None:
    # The name is assembled while rendering, so only the sandbox can see it.
    edit(library_copy / SMS, ANCHOR, ANCHOR + "{{ (payer | attr('_' ~ '_class_' ~ '_')).mro() }}")
    composer = composer_for(library_copy, tmp_path)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises((TemplateSecurityError, TemplateSourceError)):
        composer.render(composition, Channel.SMS)


def test_templates_cannot_mutate_the_data(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any]
) -> None:
    edit(library_copy / SMS, ANCHOR, ANCHOR + "{% set _ = payer.update({'name': 'X'}) %}")
    composer = composer_for(library_copy, tmp_path)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateSecurityError):
        composer.render(composition, Channel.SMS)
    assert notice_data["payer"]["name"] != "X"


def test_an_undefined_name_fails_instead_of_printing_nothing(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any]
) -> None:
    edit(library_copy / SMS, ANCHOR, ANCHOR + "{{ payer.nmae }}")
    composer = composer_for(library_copy, tmp_path)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateSourceError, match="nmae"):
        composer.render(composition, Channel.SMS)


def test_data_is_escaped_in_html(tmp_path: Path, notice_data: dict[str, Any]) -> None:
    notice_data["payer"]["name"] = "Maria <script>alert(1)</script>"
    composer = build_composer(Settings(home=tmp_path), sign=False)
    composition = composer.prepare("delinquency_notice", notice_data)
    rendering = composer.render(composition, Channel.DOCUMENT)
    assert isinstance(rendering, DocumentRendering)
    assert "<script>" not in rendering.html
    assert "Maria &lt;script&gt;alert(1)&lt;/script&gt;" in rendering.html


def test_absent_optional_fields_are_false_in_tests_but_strict_in_output(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any]
) -> None:
    # Valid data without optional fields renders: conditions on them are just false.
    del notice_data["payer"]["address"]["line2"]
    del notice_data["operator"]["address"]["line2"]
    del notice_data["operator"]["ombudsman"]
    del notice_data["operator"]["service_hours"]
    del notice_data["payment"]["boleto_line"]
    composer = composer_for(library_copy, tmp_path)
    composition = composer.prepare("delinquency_notice", notice_data)
    for channel in (Channel.DOCUMENT, Channel.EMAIL, Channel.WHATSAPP):
        composer.render(composition, channel)
    # Printing an absent optional field still fails.
    edit(library_copy / SMS, ANCHOR, ANCHOR + "{{ payer.address.line2 }}")
    fresh = composer_for(library_copy, tmp_path)
    with pytest.raises(TemplateSourceError, match="line2"):
        fresh.render(fresh.prepare("delinquency_notice", notice_data), Channel.SMS)
