"""Recipients: contacts with provenance, preferences with history, opt-outs and quiet hours."""

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ccm.service.recipients import next_allowed
from tests.api.conftest import Service

BRT = ZoneInfo("America/Sao_Paulo")


def _profile(channels: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Maria Aparecida dos Santos Oliveira",
        "cpf": "284.197.365-46",
        "contacts": {
            "email": {
                "value": "maria.cadastro@example.com",
                "source": "contract",
                "verified_at": "2026-01-10T12:00:00Z",
            },
            "phone": {"value": "+5511987654321", "source": "payer"},
        },  # fmt: skip
        "preferences": {"channels": channels, **extra},
    }


def test_profiles_are_versioned_with_history(service: Service) -> None:
    path = "/v1/recipients/REC-HIST"
    first = service.client.put(path, json=_profile(["email"]), headers=service.auth("submitter"))
    assert first.status_code == 200 and first.json()["version"] == 1
    second = service.client.put(path, json=_profile(["sms"]), headers=service.auth("submitter"))
    assert second.json()["version"] == 2
    owner = service.keys["submitter"].split("_")[1]
    versions = service.client.get(
        f"{path}/history?owner={owner}", headers=service.auth("legal")
    ).json()
    assert [v["profile"]["preferences"]["channels"] for v in versions] == [["email"], ["sms"]]
    assert service.client.get(path, headers=service.auth("editor")).status_code == 403
    bad = service.client.put(path, json=_profile(["fax"]), headers=service.auth("submitter"))
    assert bad.status_code == 422


def test_preferences_choose_the_channel_and_fill_contacts_with_provenance(
    service: Service, request_body: dict[str, Any]
) -> None:
    service.client.put(
        "/v1/recipients/REC-PREF",
        json=_profile(["sms", "email"]),
        headers=service.auth("submitter"),
    )
    request_body["recipient"]["id"] = "REC-PREF"
    request_body.pop("channels")
    del request_body["recipient"]["email"]
    created = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    ).json()
    assert created["channels"] == ["sms"]
    done = service.wait_for(created["id"], "proven")
    assert done["proof"]["rule"] == "R15"


def test_an_opt_out_is_overridden_only_by_a_mandatory_notice_with_a_legal_basis(
    service: Service, request_body: dict[str, Any]
) -> None:
    service.client.put(
        "/v1/recipients/REC-OPT", json=_profile(["sms"]), headers=service.auth("submitter")
    )
    request_body["recipient"]["id"] = "REC-OPT"
    refused = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "channels[0]"
    request_body["legal_basis"] = "RN 593/2023 art. 8º: notificação obrigatória"
    accepted = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    )
    assert accepted.status_code == 202
    communication_id = accepted.json()["id"]
    service.wait_for(communication_id, "processing")
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    submission = next(e for e in events if e["type"] == "submission_accepted")
    assert submission["details"]["legal_basis"].startswith("RN 593/2023")


def test_quiet_hours_push_the_send_to_their_end() -> None:
    quiet = {"start": "21:00", "end": "08:00"}
    late = datetime(2026, 3, 2, 22, 30, tzinfo=BRT)
    assert next_allowed(late, quiet) == datetime(2026, 3, 3, 8, 0, tzinfo=BRT)
    early = datetime(2026, 3, 3, 6, 0, tzinfo=BRT).astimezone(UTC)
    assert next_allowed(early, quiet) == datetime(2026, 3, 3, 8, 0, tzinfo=BRT)
    noon = datetime(2026, 3, 3, 12, 0, tzinfo=BRT)
    assert next_allowed(noon, quiet) == noon
    lunch = {"start": "12:00", "end": "14:00"}
    assert next_allowed(noon, lunch) == datetime(2026, 3, 3, 14, 0, tzinfo=BRT)
    assert next_allowed(noon, None) == noon


def test_a_send_in_quiet_hours_waits_for_their_end(
    service: Service, request_body: dict[str, Any]
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from ccm.persistence.tables import jobs

    now = datetime.now(BRT)
    quiet = {"start": (now - timedelta(hours=1)).strftime("%H:%M"),
             "end": (now + timedelta(hours=2)).strftime("%H:%M")}  # fmt: skip
    service.client.put(
        "/v1/recipients/REC-QUIET",
        json=_profile(["email"], quiet_hours=quiet),
        headers=service.auth("submitter"),
    )
    request_body["recipient"]["id"] = "REC-QUIET"
    created = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    ).json()
    assert service.wait_for(created["id"], "processing")["status"] == "processing"
    with service.engine.connect() as connection:
        run_after = connection.execute(
            select(jobs.c.run_after).where(
                jobs.c.communication_id == created["id"], jobs.c.kind == "send"
            )
        ).scalar_one()
    assert run_after.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(minutes=100)
    assert not list((service.settings.outbox_dir / created["id"]).glob("*"))


def test_profiles_belong_to_the_system_that_wrote_them(
    service: Service, request_body: dict[str, Any]
) -> None:
    service.client.put(
        "/v1/recipients/REC-MINE", json=_profile(["email"]), headers=service.auth("submitter")
    )
    # Another system cannot read it, and its own profile under the same id changes nothing.
    assert (
        service.client.get("/v1/recipients/REC-MINE", headers=service.auth("other")).status_code
        == 404
    )
    owner = service.keys["submitter"].split("_")[1]
    peek = service.client.get(
        f"/v1/recipients/REC-MINE?owner={owner}", headers=service.auth("other")
    )
    assert peek.status_code == 403
    hijack = _profile(["email"])
    hijack["contacts"]["email"]["value"] = "attacker@evil.example"
    service.client.put("/v1/recipients/REC-MINE", json=hijack, headers=service.auth("other"))
    request_body["recipient"]["id"] = "REC-MINE"
    del request_body["recipient"]["email"]
    created = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    ).json()
    service.wait_for(created["id"], "sent")
    [eml] = (service.settings.outbox_dir / created["id"]).glob("*.eml")
    assert b"To: maria.cadastro@example.com" in eml.read_bytes()


def test_a_profile_with_another_cpf_or_bad_contacts_is_refused(
    service: Service, request_body: dict[str, Any]
) -> None:
    service.client.put(
        "/v1/recipients/REC-CPF", json=_profile(["email"]), headers=service.auth("submitter")
    )
    request_body["recipient"].update(id="REC-CPF", cpf="529.982.247-25")
    request_body["data"]["payer"]["cpf"] = "529.982.247-25"
    response = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "recipient.cpf"
    bad = _profile(["email"])
    bad["contacts"]["email"]["value"] = {"a": 1}
    assert (
        service.client.put(
            "/v1/recipients/REC-BAD", json=bad, headers=service.auth("submitter")
        ).status_code
        == 422
    )


def test_an_opt_out_also_holds_when_channels_are_omitted_and_in_batches(
    service: Service, request_body: dict[str, Any]
) -> None:
    profile = _profile(["sms"])
    del profile["contacts"]["phone"]
    service.client.put("/v1/recipients/REC-OUT", json=profile, headers=service.auth("submitter"))
    request_body["recipient"]["id"] = "REC-OUT"
    request_body.pop("channels")
    omitted = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    )
    assert omitted.status_code == 422 and omitted.json()["errors"][0]["path"] == "channels"
    request_body["channels"] = ["email"]
    line = json.dumps(request_body).encode() + b"\n"
    batch = service.client.post(
        "/v1/batches",
        content=line,
        headers={**service.auth("submitter"), "Content-Type": "application/x-ndjson"},
    ).json()
    assert (batch["accepted"], batch["rejected"]) == (0, 1)
