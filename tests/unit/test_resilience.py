"""Concurrent first starts, interrupted key creation, an unreachable timestamp authority."""

import multiprocessing
from datetime import date
from pathlib import Path

import pytest
import weasyprint

from ccm.persistence import SqlSequenceStore, create_database_engine, upgrade_database
from signing import (
    PadesProfile,
    PadesSigner,
    TimestampError,
    ensure_development_pki,
    http_timestamper,
)


def _migrate(url: str) -> str:
    try:
        upgrade_database(create_database_engine(url))
    except Exception as error:  # reported back to the parent
        return f"{type(error).__name__}: {error}"
    return "ok"


def test_concurrent_first_starts_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        results = pool.map(_migrate, [url] * 6)
    assert results == ["ok"] * 6
    assert SqlSequenceStore(create_database_engine(url)).next_value("x", date(2026, 1, 1)) == 1


def test_an_interrupted_pki_creation_is_replaced(tmp_path: Path) -> None:
    first = ensure_development_pki(tmp_path / "pki")
    first.signer_password.write_text("not the password")  # as if creation stopped midway
    second = ensure_development_pki(tmp_path / "pki")
    assert second.signer().certificate.serial_number != 0


def test_an_unreachable_timestamp_authority_is_a_timestamp_error(tmp_path: Path) -> None:
    pki = ensure_development_pki(tmp_path / "pki")
    signer = PadesSigner(
        pki.signer(),
        timestamper=http_timestamper("http://127.0.0.1:9/tsa", timeout=2),
        profile=PadesProfile(),
    )

    from tests.conftest import NOTICE_SAMPLE  # noqa: F401  (any PDF will do)

    pdf = weasyprint.HTML(string="<p>x</p>").write_pdf()
    with pytest.raises(TimestampError, match="timestamp authority failed"):
        signer.sign(pdf)
