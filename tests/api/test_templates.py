"""``/v1/templates``: the library, each template's schema, previews of every channel."""

import pytest

from tests.api.conftest import Service


def test_listing_shows_every_template_with_its_version_and_elements(service: Service) -> None:
    listed = service.client.get("/v1/templates", headers=service.auth("editor")).json()
    ids = {t["id"] for t in listed}
    assert {"delinquency_notice", "evidence_certificate", "claim_decision"} <= ids
    notice = next(t for t in listed if t["id"] == "delinquency_notice")
    assert notice["version"] == "1.0.0" and notice["state"] == "approved"
    [pt_br] = notice["locales"]
    assert "voice" in pt_br["channels"] and len(pt_br["digest"]) == 64
    assert any(e["rule"].startswith("R20") for e in pt_br["mandatory_elements"])


def test_schema_and_unknown_template(service: Service) -> None:
    schema = service.client.get(
        "/v1/templates/delinquency_notice/schema", headers=service.auth("submitter")
    ).json()
    assert schema["$schema"].endswith("2020-12/schema") and "payer" in schema["properties"]
    missing = service.client.get("/v1/templates/nope", headers=service.auth("editor"))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("channel", "fmt", "media", "marker"),
    [
        ("document", "pdf", "application/pdf", b"%PDF"),
        ("document", "html", "text/html", b"<html"),
        ("email", "text", "text/plain", b"Maria"),
        ("sms", "text", "text/plain", b"Vida Plena"),
        ("voice", "json", "application/json", b'"steps"'),
        ("agent_script", "html", "text/html", b"PREVIA-SEM-PROTOCOLO"),
    ],
)
def test_preview_every_channel(
    service: Service, channel: str, fmt: str, media: str, marker: bytes
) -> None:
    response = service.client.post(
        "/v1/templates/delinquency_notice/preview",
        json={"channel": channel, "format": fmt},
        headers=service.auth("editor"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    assert marker in response.content


def test_preview_of_bad_data_names_the_field(service: Service) -> None:
    response = service.client.post(
        "/v1/templates/delinquency_notice/preview",
        json={"data": {"payer": {"cpf": "1"}}},
        headers=service.auth("editor"),
    )
    assert response.status_code == 422
    assert any(e["path"].startswith("data.") for e in response.json()["errors"])
