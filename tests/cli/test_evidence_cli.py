"""``ccm evidence``: sample, verify (exit 0/1/2), checkpoint and audit from the command line."""

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ccm.config import Settings
from ccm.persistence import create_database_engine
from signing import DevelopmentPki, ensure_development_pki


@pytest.fixture(scope="module")
def sample_pack(tmp_path_factory: pytest.TempPathFactory, home: Path) -> tuple[Path, str]:
    from typer.testing import CliRunner

    from ccm.cli import app

    out = tmp_path_factory.mktemp("cli-pack") / "packs" / "sample.zip"
    result = CliRunner().invoke(
        app, ["evidence", "sample", "--out", str(out)], env={"CCM_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_sample_writes_a_pack_and_says_how_to_verify_it(
    sample_pack: tuple[Path, str], pki: DevelopmentPki
) -> None:
    path, output = sample_pack
    assert "evidence pack:" in output
    assert f"--trust {pki.ca_certificate.resolve()}" in output
    with zipfile.ZipFile(path) as archive:
        assert "certificate.pdf" in archive.namelist()


def test_verify_passes_an_untouched_pack(
    cli: Callable[..., Any], sample_pack: tuple[Path, str], pki: DevelopmentPki
) -> None:
    result = cli("evidence", "verify", str(sample_pack[0]), "--trust", str(pki.ca_certificate))
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output
    assert "proves notification under rule R14" in result.output


def test_verify_without_trust_warns_that_trust_is_self_asserted(
    cli: Callable[..., Any], sample_pack: tuple[Path, str]
) -> None:
    result = cli("evidence", "verify", str(sample_pack[0]))
    assert result.exit_code == 0, result.output
    assert "WARNING: no --trust given" in result.output


def test_verify_fails_a_tampered_pack_naming_the_file(
    cli: Callable[..., Any], sample_pack: tuple[Path, str], pki: DevelopmentPki, tmp_path: Path
) -> None:
    with zipfile.ZipFile(sample_pack[0]) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["LEIA-ME.txt"] += b"\nnota acrescentada"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(buffer.getvalue())
    result = cli("evidence", "verify", str(bad), "--trust", str(pki.ca_certificate))
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert "- LEIA-ME.txt: SHA-256 differs from the manifest" in result.output


def test_verify_refuses_unreadable_input_with_exit_2(
    cli: Callable[..., Any], sample_pack: tuple[Path, str], tmp_path: Path
) -> None:
    missing = cli("evidence", "verify", str(tmp_path / "nope.zip"))
    assert missing.exit_code == 2 and "cannot read" in missing.output
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    not_zip = cli("evidence", "verify", str(garbage))
    assert not_zip.exit_code == 2 and "not a ZIP file" in not_zip.output
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate")
    no_trust = cli("evidence", "verify", str(sample_pack[0]), "--trust", str(empty))
    assert no_trust.exit_code == 2 and "trust anchors" in no_trust.output
    assert "Traceback" not in missing.output + no_trust.output


def test_verify_rejects_a_pack_from_another_operator(
    cli: Callable[..., Any], sample_pack: tuple[Path, str], tmp_path: Path
) -> None:
    stranger = ensure_development_pki(tmp_path / "stranger")
    result = cli("evidence", "verify", str(sample_pack[0]), "--trust", str(stranger.ca_certificate))
    assert result.exit_code == 1
    assert "does not chain to a trusted root" in result.output


def test_checkpoint_and_audit_of_the_operator_ledger(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    from ccm.bootstrap import build_ledger
    from tests.evidence.conftest import fill

    env = {"CCM_HOME": str(tmp_path / "home")}
    ledger = build_ledger(Settings(home=tmp_path / "home"))
    fill(ledger, 8)
    first = cli("evidence", "checkpoint", "--if-older-than", "24", env=env)
    assert first.exit_code == 0 and "checkpoint: 8 events, root " in first.output
    again = cli("evidence", "checkpoint", "--if-older-than", "24", env=env)
    assert again.exit_code == 0 and "no checkpoint needed" in again.output
    clean = cli("evidence", "audit", env=env)
    assert clean.exit_code == 0 and "ledger intact" in clean.output
    engine = create_database_engine(Settings(home=tmp_path / "home").resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM evidence_events WHERE position = 3"))
    tampered = cli("evidence", "audit", env=env)
    assert tampered.exit_code == 1
    assert "deleted: the event with index 3 is missing" in tampered.output
    assert "TAMPERED" in tampered.output
