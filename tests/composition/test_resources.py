"""Documents load only their own library's files: no local files, no network."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccm.bootstrap import build_composer
from ccm.composition import Channel
from ccm.composition.brands import BrandBook
from ccm.config import Settings
from ccm.errors import ConfigurationError, TemplateSecurityError

Edit = Callable[[Path, str, str], None]
DOCUMENT = "delinquency_notice/pt-BR/document.html.j2"
ANCHOR = "{% block body %}"


@pytest.mark.parametrize(
    "markup",
    [
        '<a rel="attachment" href="file:///etc/hostname">anexo</a>',
        '<img src="file:///etc/hostname" alt="">',
        '<img src="{{ brand.logo_url }}/../../../../../../etc/hostname" alt="">',
        '<img src="http://127.0.0.1:9/pixel.png" alt="">',
        '<link rel="stylesheet" href="https://example.com/x.css">',
    ],
)
def test_resources_outside_the_library_stop_the_render(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any], markup: str
) -> None:
    edit(library_copy / DOCUMENT, ANCHOR, ANCHOR + markup)
    composer = build_composer(Settings(home=tmp_path, templates_dir=library_copy), sign=False)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateSecurityError, match="refused resource"):
        composer.render(composition, Channel.DOCUMENT)


@pytest.mark.parametrize(
    "expression",
    [
        "{{ beneficiaries | map(attribute='__class__') | list }}",
        "{{ beneficiaries | groupby('__class__') }}",
        "{{ beneficiaries | sort(attribute='name.__class__') }}",
    ],
)
def test_filter_attribute_arguments_are_scanned(
    library_copy: Path, tmp_path: Path, edit: Edit, notice_data: dict[str, Any], expression: str
) -> None:
    edit(library_copy / "delinquency_notice/pt-BR/sms.txt.j2", "Responda CIENTE.", expression)
    composer = build_composer(Settings(home=tmp_path, templates_dir=library_copy), sign=False)
    composition = composer.prepare("delinquency_notice", notice_data)
    with pytest.raises(TemplateSecurityError, match="line 1: access to"):
        composer.render(composition, Channel.SMS)


def test_two_brands_cannot_claim_one_issuer(library_copy: Path) -> None:
    brands = library_copy / "_brands"
    (brands / "copy").mkdir()
    (brands / "copy" / "brand.yaml").write_text('name: X\nissuers: ["41287035000130"]\n')
    with pytest.raises(ConfigurationError, match="both claim issuer"):
        BrandBook(brands)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tsa_url": "http://tsa.example/tsr", "tsa_username": "u"}, "must use https"),
        ({"signing_policy_oid": "2.16.76.x", "signing_policy_hash": "ab" * 32}, "dotted OID"),
        ({"signing_policy_oid": "2.16.76.1.7.1.12.1.3", "signing_policy_hash": "zz"}, "64 hex"),
        ({"protocol_pattern": "^("}, "invalid CCM_PROTOCOL_LAYOUT"),
        ({"protocol_layout": "{ans}{day}"}, "invalid CCM_PROTOCOL_LAYOUT"),
        ({"protocol_pattern": r"^\d{4}$"}, "refuses what CCM_PROTOCOL_LAYOUT produces"),
    ],
)
def test_invalid_settings_name_the_variable(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings(home=tmp_path, **settings)  # type: ignore[arg-type]


def test_secrets_are_not_echoed_in_setting_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        Settings(home=tmp_path, tsa_url="ftp://svc:S3cretPass@tsa.example/")  # type: ignore[arg-type]
    assert "S3cretPass" not in str(caught.value)
