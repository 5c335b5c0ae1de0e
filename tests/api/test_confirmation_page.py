"""The page every message links to: identity first, then "Li e estou ciente" (the
e-mail's read confirmation, R14) or "Quero questionar"; locked after five wrong answers;
used in Chromium (Playwright) on a phone-sized screen."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from ccm.persistence.artifacts import FileArtifactStore
from ccm.service.communications import get_communication
from tests.api.conftest import Service, running_service

pytestmark = pytest.mark.xdist_group("confirmation_page")
CPF_DIGITS = "28419"  # the example payer's CPF 284.197.365-46
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]  # fmt: skip


@pytest.fixture(scope="module")
def page_service(
    tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path
) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("pages"), home) as service:
        yield service


def _notice(service: Service, body: dict[str, Any], contract: str) -> tuple[str, str]:
    body["data"]["plan"]["contract_number"] = contract  # another document
    response = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    communication_id = str(response.json()["id"])
    record = get_communication(service.engine, communication_id)
    assert record is not None and record.document_id
    return communication_id, record.document_id


def _answers(service: Service, communication_id: str, kind: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        events = service.client.get(
            f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
        ).json()
        found = [
            e
            for e in events
            if e["type"] == kind and e["details"].get("method") == "confirmation_page"
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_page_shows_nothing_personal_and_records_awareness(
    page_service: Service, request_body: dict[str, Any]
) -> None:
    service = page_service
    communication_id, document_id = _notice(service, request_body, "VP-PAGE-1")
    page = service.client.get(f"/d/{document_id}")
    assert page.status_code == 200 and "Vida Plena" in page.text
    for secret in ("Maria", "284.197", "2.653", CPF_DIGITS):
        assert secret not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert 'name="viewport"' in page.text and "AMBIENTE DE TESTE" in page.text

    wrong = service.client.post(
        f"/d/{document_id}", data={"cpf_digits": "11111", "answer": "ciente"}
    )
    assert wrong.status_code == 422 and "Restam 4 tentativas" in wrong.text
    done = service.client.post(
        f"/d/{document_id}",
        data={"cpf_digits": CPF_DIGITS, "answer": "ciente"},
        headers={"User-Agent": "Mozilla/5.0 (Android 14) teste"},
    )
    assert done.status_code == 200 and "leu e está ciente" in done.text

    [accepted] = _answers(service, communication_id, "recipient_accepted")
    assert accepted["channel"] == "email"
    assert accepted["legal_proof"]["proof"] and accepted["legal_proof"]["rule"] == "R14"
    assert accepted["details"]["identity_items"] == "cpf_prefix_5"
    store = FileArtifactStore(service.settings.home / "artifacts")
    kept = json.loads(store.get(accepted["artifacts"][0]["sha256"]))
    assert kept["answer"] == "ciente" and "Android 14" in kept["user_agent"]
    assert CPF_DIGITS not in json.dumps(kept)  # what was typed is never kept

    assert service.client.get("/d/NAOEXISTE").status_code == 404


def test_five_wrong_answers_lock_the_page(
    page_service: Service, request_body: dict[str, Any]
) -> None:
    service = page_service
    _, document_id = _notice(service, request_body, "VP-PAGE-2")
    codes = [
        service.client.post(
            f"/d/{document_id}", data={"cpf_digits": "00000", "answer": "ciente"}
        ).status_code
        for _ in range(5)
    ]
    assert codes == [422, 422, 422, 422, 429]
    locked = service.client.post(
        f"/d/{document_id}", data={"cpf_digits": CPF_DIGITS, "answer": "ciente"}
    )
    assert locked.status_code == 429 and "bloqueado" in locked.text


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, port


def test_a_dispute_from_a_phone_in_chromium(
    page_service: Service, request_body: dict[str, Any], tmp_path: Path
) -> None:
    service = page_service
    communication_id, document_id = _notice(service, request_body, "VP-PAGE-3")
    server, thread, port = _serve(service.client.app)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(
                viewport={"width": 390, "height": 844}, locale="pt-BR", is_mobile=True
            )
            page.goto(f"http://127.0.0.1:{port}/d/{document_id}")
            assert page.title() == "Aviso da sua operadora"
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=str(tmp_path / "ask.png"), full_page=True)
            page.fill("#cpf", "99999")
            page.click("#dispute")
            assert "Restam 4" in page.inner_text("#wrong")
            page.fill("#cpf", CPF_DIGITS)
            page.click("#dispute")
            page.wait_for_selector("#done")
            assert "questionar o débito" in page.inner_text("#done")
            page.screenshot(path=str(tmp_path / "done.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    [dispute] = _answers(service, communication_id, "recipient_rejected")
    assert "dispute opened by confirmation_page" in dispute["reasons"][0]
    assert not dispute["legal_proof"]["proof"]


def test_the_open_pixel_is_weak_evidence_recorded_once(
    page_service: Service, request_body: dict[str, Any]
) -> None:
    service = page_service
    communication_id, document_id = _notice(service, request_body, "VP-PIXEL-1")
    html = service.client.post(
        "/v1/templates/delinquency_notice/preview",
        json={"channel": "email", "format": "html"},
        headers=service.auth("editor"),
    ).text
    assert "/p/" in html and 'width="1" height="1"' in html
    for _ in range(2):
        pixel = service.client.get(f"/p/{document_id}.gif")
        assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
        assert pixel.content.startswith(b"GIF89a")
    deadline = time.monotonic() + 20
    while True:
        events = service.client.get(
            f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
        ).json()
        opened = [e for e in events if e["details"].get("method") == "pixel"]
        if opened or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    [opened] = [e for e in events if e["details"].get("method") == "pixel"]
    assert opened["type"] == "content_accessed" and not opened["legal_proof"]["proof"]
    assert "weak evidence" in opened["legal_proof"]["why"]
    assert service.client.get("/p/NADA.gif").status_code == 200  # no oracle for strangers
