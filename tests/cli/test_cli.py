"""The ccm command line: exit codes, messages, outputs."""

import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOTICE_SAMPLE, run

CCM = shutil.which("ccm") or str(Path(os.sys.executable).parent / "ccm")  # type: ignore[attr-defined]
Edit = Callable[[Path, str, str], None]


def test_bad_data_exits_2_naming_field_and_rule(
    tmp_path: Path, home: Path, notice_data: dict[str, Any]
) -> None:
    notice_data["payer"]["cpf"] = "284.197.365-47"
    notice_data["installments"][1]["due_date"] = "2026-11-31"
    data = tmp_path / "bad.json"
    data.write_text(json.dumps(notice_data), encoding="utf-8")
    out = tmp_path / "out.pdf"
    result = run(
        CCM,
        "render",
        "delinquency_notice",
        "--data",
        str(data),
        "--out",
        str(out),
        env={**os.environ, "CCM_HOME": str(home)},
    )
    assert result.returncode == 2
    assert "payer.cpf: invalid CPF check digits" in result.stderr
    assert "installments[1].due_date: is not a real calendar date" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_render_writes_a_signed_pdf(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "notice.pdf"
    result = run(
        CCM,
        "render",
        "delinquency_notice",
        "--data",
        str(NOTICE_SAMPLE),
        "--out",
        str(out),
        env={**os.environ, "CCM_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-1.7")
    assert "Signature is Valid." in run("pdfsig", str(out)).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("render", "nope", "--data", str(NOTICE_SAMPLE), "--out", "x.pdf"), "no such template"),
        (("render", "delinquency_notice", "--data", "/missing.json", "--out", "x"), "cannot read"),
        (
            (
                "render",
                "delinquency_notice",
                "--data",
                str(NOTICE_SAMPLE),
                "--out",
                "x",
                "--locale",
                "pt-PT",
            ),
            "no locale 'pt-PT'",
        ),
        (("templates", "lint", "nope"), "no such template"),
    ],
)
def test_bad_input_exits_2(cli: Callable[..., Any], args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_invalid_json_exits_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "bad.json"
    data.write_text('{"operator": ', encoding="utf-8")
    result = cli("render", "delinquency_notice", "--data", str(data), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "invalid JSON at line 1" in result.output


def test_templates_list(cli: Callable[..., Any]) -> None:
    result = cli("templates", "list")
    assert result.exit_code == 0
    assert "delinquency_notice" in result.output


def test_lint_fails_with_exit_1_on_a_broken_library(
    cli: Callable[..., Any], library_copy: Path, edit: Edit
) -> None:
    edit(
        library_copy / "delinquency_notice/pt-BR/whatsapp.txt.j2",
        "Débito atualizado em {{ issue_date | date }}: *{{ debt.total | money }}*",
        "",
    )
    result = cli(
        "templates", "lint", "delinquency_notice", env={"CCM_TEMPLATES_DIR": str(library_copy)}
    )
    assert result.exit_code == 1
    assert "[whatsapp]: mandatory element 'total_due'" in result.output


def test_a_template_reaching_for_internals_is_refused(
    cli: Callable[..., Any], library_copy: Path, edit: Edit, tmp_path: Path
) -> None:
    edit(
        library_copy / "delinquency_notice/pt-BR/sms.txt.j2",
        "Responda CIENTE.",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
    )
    env = {"CCM_TEMPLATES_DIR": str(library_copy)}
    out = tmp_path / "sms.txt"
    result = cli(
        "render",
        "delinquency_notice",
        "--data",
        str(NOTICE_SAMPLE),
        "--channel",
        "sms",
        "--out",
        str(out),
        env=env,
    )
    assert result.exit_code == 2
    assert "access to '__globals__' is not allowed in templates" in result.output
    assert not out.exists()
    assert cli("templates", "lint", env=env).exit_code == 1


def test_agent_scripts_get_a_fresh_protocol_each_time(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    numbers = []
    for name in ("a.html", "b.html"):
        out = tmp_path / name
        result = cli(
            "render",
            "delinquency_notice",
            "--data",
            str(NOTICE_SAMPLE),
            "--channel",
            "agent_script",
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        numbers.append(re.search(r'id="protocol">(\d{20})<', out.read_text()).group(1))  # type: ignore[union-attr]
    today = date.today().strftime("%Y%m%d")
    assert all(n.startswith("412345" + today) for n in numbers)
    assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1


def test_samples_renders_every_template_and_channel(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    from ccm.composition import TemplateLibrary
    from templates import ROOT

    result = cli("samples", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    library = TemplateLibrary(ROOT)
    expected = 0
    for template_id in library.ids():
        for locale, spec in library.manifest(template_id).locales.items():
            folder = tmp_path / template_id / locale
            for sample in spec.samples:
                for channel in spec.channels:
                    matches = list(folder.glob(f"{Path(sample).stem}.{channel}.*"))
                    assert len(matches) == 1, f"{template_id}/{locale}/{sample} {channel}"
                    expected += 1
    pdfs = list(tmp_path.rglob("*.document.pdf"))
    assert pdfs and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert len(list(tmp_path.rglob("*.*.*"))) == expected
