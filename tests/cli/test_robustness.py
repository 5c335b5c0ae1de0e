"""Whatever the input or configuration, the CLI answers with one line and an exit code."""

import email
import hashlib
from collections.abc import Callable
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOTICE_SAMPLE

Edit = Callable[[Path, str, str], None]


def render(cli: Callable[..., Any], *args: str, env: dict[str, str] | None = None) -> Any:
    return cli("render", "delinquency_notice", "--data", str(NOTICE_SAMPLE), *args, env=env)


def assert_one_line(result: Any, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_non_utf8_data(cli: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "latin1.json"
    data.write_bytes('{"a": "ação"}'.encode("latin-1"))
    result = cli("render", "delinquency_notice", "--data", str(data), "--out", str(tmp_path / "x"))
    assert_one_line(result, 2, "must be UTF-8 encoded JSON")


def test_unwritable_output(cli: Callable[..., Any]) -> None:
    assert_one_line(render(cli, "--no-sign", "--out", "/proc/nope/x.pdf"), 2, "cannot write")


@pytest.mark.parametrize("document_id", ["---", "AB\nCD", "x" * 65])
def test_bad_document_ids(cli: Callable[..., Any], tmp_path: Path, document_id: str) -> None:
    result = render(
        cli, "--no-sign", "--out", str(tmp_path / "x.pdf"), "--document-id", document_id
    )
    assert_one_line(result, 2, "document_id: must be 1 to 64 letters")


def test_a_given_protocol_is_checked(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = render(
        cli, "--channel", "agent_script", "--protocol", "x", "--out", str(tmp_path / "a")
    )
    assert_one_line(result, 2, "protocol number does not match")


def test_markup_in_paths_is_printed_as_is(cli: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "[bold]notice.txt"
    result = render(cli, "--channel", "sms", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "[bold]notice.txt" in result.output and out.exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CCM_TEMPLATES_DIR", "/nonexistent", "is not a folder (CCM_TEMPLATES_DIR)"),
        ("CCM_BRANDS_DIR", "/nonexistent", "is not a folder (CCM_BRANDS_DIR)"),
        ("CCM_DATABASE_URL", "nosuchdb://x", "cannot use database"),
    ],
)
def test_bad_configuration_exits_2(
    cli: Callable[..., Any], tmp_path: Path, variable: str, value: str, message: str
) -> None:
    result = render(
        cli, "--channel", "agent_script", "--out", str(tmp_path / "a"), env={variable: value}
    )
    assert_one_line(result, 2, message)


def test_a_wrong_pkcs12_password_is_a_configuration_error(
    cli: Callable[..., Any], tmp_path: Path, home: Path
) -> None:
    env = {
        "CCM_SIGNING_PKCS12": str(home / "pki" / "signer.p12"),
        "CCM_SIGNING_PKCS12_PASSWORD": "no",
    }
    assert_one_line(render(cli, "--out", str(tmp_path / "x.pdf"), env=env), 2, "CCM_SIGNING_PKCS12")


def test_a_failing_filter_in_a_call_script_is_a_template_error(
    cli: Callable[..., Any], library_copy: Path, edit: Edit, tmp_path: Path
) -> None:
    edit(
        library_copy / "delinquency_notice/pt-BR/voice.txt.j2",
        "Até logo.",
        "{{ payer.name | money }}",
    )
    result = render(
        cli,
        "--channel",
        "voice",
        "--out",
        str(tmp_path / "v.json"),
        env={"CCM_TEMPLATES_DIR": str(library_copy)},
    )
    assert_one_line(result, 1, "voice.txt.j2: InvalidOperation")


def test_an_unsupported_locale_in_a_manifest(
    cli: Callable[..., Any], library_copy: Path, edit: Edit
) -> None:
    edit(library_copy / "delinquency_notice/manifest.yaml", "  pt-BR:", "  es-ES:")
    result = cli(
        "templates", "lint", "delinquency_notice", env={"CCM_TEMPLATES_DIR": str(library_copy)}
    )
    assert result.exit_code == 1 and "unsupported locales es-ES" in result.output


def test_a_broken_expect_expression_is_a_finding(
    cli: Callable[..., Any], library_copy: Path, edit: Edit
) -> None:
    edit(
        library_copy / "delinquency_notice/manifest.yaml",
        '"{{ operator.name }}"',
        '"{{ operator.name | nope }}"',
    )
    result = cli(
        "templates", "lint", "delinquency_notice", env={"CCM_TEMPLATES_DIR": str(library_copy)}
    )
    assert (
        result.exit_code == 1
        and "element 'operator_name': its expect expression fails" in result.output
    )


def test_a_schema_must_require_the_issue_date(
    cli: Callable[..., Any], library_copy: Path, edit: Edit
) -> None:
    edit(
        library_copy / "delinquency_notice/pt-BR/schema.json",
        '"installments", "issue_date",',
        '"installments",',
    )
    result = cli(
        "templates", "lint", "delinquency_notice", env={"CCM_TEMPLATES_DIR": str(library_copy)}
    )
    assert result.exit_code == 1 and "must require issue_date" in result.output


def test_email_is_deterministic_and_attaches_the_archived_pdf(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.eml", tmp_path / "b.eml"
    for out in (first, second):
        assert render(cli, "--channel", "email", "--no-sign", "--out", str(out)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    samples = tmp_path / "samples"
    assert cli("samples", "--out", str(samples)).exit_code == 0
    folder = samples / "delinquency_notice" / "pt-BR"
    message = email.message_from_bytes((folder / "sample.email.eml").read_bytes(), policy=default)
    (attachment,) = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    archived = (folder / "sample.document.pdf").read_bytes()
    assert hashlib.sha256(attachment.get_content()).digest() == hashlib.sha256(archived).digest()
