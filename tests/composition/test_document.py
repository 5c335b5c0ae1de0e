"""The printed notice: PDF/A-3b, A4, embedded fonts, deterministic, complete, scannable."""

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from ccm.composition import Channel, Composer, DocumentRendering
from ccm.composition.lint import expected_values
from ccm.composition.text import contains, searchable
from ccm.payments import parse_brcode
from tests.conftest import NOTICE_SAMPLE, run


@pytest.fixture(scope="module")
def notice(unsigned_composer: Composer) -> tuple[Any, DocumentRendering]:
    data = json.loads(NOTICE_SAMPLE.read_text(encoding="utf-8"))
    composition = unsigned_composer.prepare("delinquency_notice", data)
    rendering = unsigned_composer.render(composition, Channel.DOCUMENT)
    assert isinstance(rendering, DocumentRendering)
    return composition, rendering


@pytest.fixture(scope="module")
def pdf_path(
    notice: tuple[Any, DocumentRendering], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("notice") / "notice.pdf"
    path.write_bytes(notice[1].pdf)
    return path


def test_is_pdfa_3b_in_its_metadata(pdf_path: Path) -> None:
    xmp = run("pdfinfo", "-meta", str(pdf_path)).stdout
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    catalog = PdfReader(pdf_path).trailer["/Root"]
    intents = [intent.get_object() for intent in catalog["/OutputIntents"]]
    assert [i["/S"] for i in intents] == ["/GTS_PDFA1"]
    assert intents[0]["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"


def test_is_one_a4_page(pdf_path: Path) -> None:
    info = run("pdfinfo", str(pdf_path)).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    assert re.search(r"^Page size:\s+595\.2\d+ x 841\.89 pts \(A4\)$", info, re.M)


def test_every_font_is_embedded(pdf_path: Path) -> None:
    lines = run("pdffonts", str(pdf_path)).stdout.splitlines()[2:]
    assert lines, "the notice uses fonts"
    for line in lines:
        assert " yes yes " in line, f"font not embedded and subset: {line}"
    names = " ".join(lines)
    assert "Inter" in names and "DejaVu-Sans-Mono" in names


def test_text_holds_every_mandatory_element(
    notice: tuple[Any, DocumentRendering], pdf_path: Path, unsigned_composer: Composer
) -> None:
    composition, _ = notice
    text = searchable(run("pdftotext", str(pdf_path), "-").stdout)
    spec = composition.variant.spec
    checked = 0
    for element in spec.mandatory_elements:
        if Channel.DOCUMENT not in spec.channels_of(element) or element.kind == "image":
            continue
        for value in expected_values(unsigned_composer, composition, element):
            assert contains(text, searchable(value)), f"{element.id}: {value!r} not in the PDF"
            checked += 1
    assert checked >= 25


def test_the_qr_code_pays_the_exact_total(
    notice: tuple[Any, DocumentRendering], pdf_path: Path, tmp_path: Path
) -> None:
    composition, _ = notice
    run("pdftoppm", "-r", "200", "-png", str(pdf_path), str(tmp_path / "page"))
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "page-1.png"))
    payloads = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert payloads == [composition.context["pix"]["payload"]]
    code = parse_brcode(payloads[0])
    assert code.amount == composition.context["debt"]["total"]
    assert code.key == "41287035000130"


def test_specimen_band_marks_development_signatures(pdf_path: Path) -> None:
    assert "ESPÉCIME" in run("pdftotext", str(pdf_path), "-").stdout


def _render_in_a_new_process(out: Path, home: Path, extra: tuple[str, ...] = ()) -> bytes:
    env = {**os.environ, "CCM_HOME": str(home)}
    command = (
        sys.executable,
        "-m",
        "ccm.cli.__main__",
        "render",
        "delinquency_notice",
        "--data",
        str(NOTICE_SAMPLE),
        "--out",
        str(out),
        "--no-sign",
        *extra,
    )
    result = run(*command, env=env)
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def test_rendering_is_byte_identical_across_processes(tmp_path: Path, home: Path) -> None:
    first = _render_in_a_new_process(tmp_path / "a.pdf", home)
    second = _render_in_a_new_process(tmp_path / "b.pdf", home)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    other = _render_in_a_new_process(tmp_path / "c.pdf", home, ("--document-id", "OTHER-ID"))
    assert other != first
