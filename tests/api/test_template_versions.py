"""Template versions: draft, preview, submit (linted), approve by someone else; sends use
the current approved version and record it; earlier requests keep theirs."""

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from ccm.service.templates import TemplateCatalog
from tests.api.conftest import Service

BASE = "/v1/templates/delinquency_notice"
MARKER = "Texto revisado pelo jurídico em novembro."

# One service, in this order: later tests build on the versions earlier ones approved.
pytestmark = pytest.mark.xdist_group("template_versions")


def _post(service: Service, path: str, who: str, body: Any = None) -> Any:
    return service.client.post(f"{BASE}{path}", json=body, headers=service.auth(who))


def _draft(service: Service, version: str, files: dict[str, Any], who: str = "editor") -> Any:
    return _post(service, "/versions", who, {"version": version, "files": files})


def _email_text(service: Service) -> str:
    current = service.client.get(f"{BASE}/versions/1.0.0", headers=service.auth("editor")).json()
    text: str = current["files"]["pt-BR/email.txt.j2"]
    return text + "\n" + MARKER + "\n"


def _sent_text(service: Service, communication_id: str) -> str:
    """The plain-text part of the e-mail the sandbox wrote for the communication."""
    [sent] = Path(service.settings.outbox_dir, communication_id).glob("*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_an_approved_version_is_used_for_new_sends_and_recorded(
    service: Service, submit: Any, request_body: dict[str, Any]
) -> None:
    listed = service.client.get(f"{BASE}/versions", headers=service.auth("legal")).json()
    assert [(v["version"], v["origin"], v["current"]) for v in listed] == [
        ("1.0.0", "library", True)
    ]

    created = _draft(service, "1.1.0", {"pt-BR/email.txt.j2": _email_text(service)})
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["state"] == "draft" and draft["base_version"] == "1.0.0"
    assert "version: 1.1.0" in draft["files"]["manifest.yaml"]
    assert not draft["current"]

    before = submit(request_body).json()["id"]
    preview = _post(service, "/versions/1.1.0/preview", "editor", {"channel": "email"})
    assert preview.status_code == 200 and MARKER in preview.text
    assert MARKER not in _post(service, "/preview", "editor", {"channel": "email"}).text

    assert _post(service, "/versions/1.1.0/approve", "approver").status_code == 409  # a draft
    submitted = _post(service, "/versions/1.1.0/submit", "editor")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert submit(request_body).json()["template_version"] == "1.0.0"  # not approved yet

    approved = _post(service, "/versions/1.1.0/approve", "approver", {"note": "ok"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["current"] and approved.json()["state"] == "approved"
    assert [e["action"] for e in approved.json()["log"]] == ["created", "submitted", "approved"]

    shown = service.client.get(BASE, headers=service.auth("submitter")).json()
    assert shown["version"] == "1.1.0"
    after = submit(request_body)
    assert after.status_code == 202 and after.json()["template_version"] == "1.1.0"

    new_id = after.json()["id"]
    assert service.wait_for(new_id, "proven")["status"] == "proven"
    assert service.wait_for(before, "proven")["status"] == "proven"
    assert MARKER in _sent_text(service, new_id)
    assert MARKER not in _sent_text(service, before)
    events = service.client.get(
        f"/v1/communications/{new_id}/events", headers=service.auth("admin")
    ).json()
    composed = next(e for e in events if e["type"] == "content_composed")
    assert composed["details"]["template"] == "delinquency_notice@1.1.0/pt-BR"


def test_the_approver_must_not_be_an_author(service: Service) -> None:
    text = _email_text(service).replace(MARKER, "Outra revisão.")
    assert (
        _draft(service, "1.2.0", {"pt-BR/email.txt.j2": text}, "editor_approver").status_code == 201
    )
    assert _post(service, "/versions/1.2.0/submit", "editor").status_code == 200
    refused = _post(service, "/versions/1.2.0/approve", "editor_approver")
    assert refused.status_code == 403 and "author" in refused.json()["detail"]
    assert _post(service, "/versions/1.2.0/approve", "editor").status_code == 403  # no role

    rejected = _post(service, "/versions/1.2.0/reject", "approver", {"reason": "Texto longo."})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    edited = service.client.patch(
        f"{BASE}/versions/1.2.0",
        json={"files": {"pt-BR/email.txt.j2": text + "Fim.\n"}, "note": "encurtado"},
        headers=service.auth("editor"),
    )
    assert edited.status_code == 200 and edited.json()["state"] == "draft"
    assert [e["action"] for e in edited.json()["log"]] == [
        "created",
        "submitted",
        "rejected",
        "edited",
    ]
    assert service.client.get(BASE, headers=service.auth("editor")).json()["version"] != "1.2.0"


@pytest.mark.parametrize(
    ("version", "files", "status", "path"),
    [
        ("0.9.0", {"pt-BR/sms.txt.j2": "x"}, 409, None),  # not above every version
        ("9.0.0", {"../secret.j2": "x"}, 422, "files.../secret.j2"),
        ("9.0.0", {"pt-BR/sub/x.j2": "x"}, 422, "files.pt-BR/sub/x.j2"),
        ("9.0.0", {"pt-BR/sms.txt.j2": None}, 422, "files.pt-BR"),  # a channel's source
        ("9.0.0", {"pt-BR/missing.j2": None}, 422, "files.pt-BR/missing.j2"),
        ("9.0.0", {"manifest.yaml": "id: delinquency_notice\nversion: 9.0.1\n"}, 422, None),
        ("9.0.0", {"pt-BR/schema.json": "{not json"}, 422, "files.pt-BR"),
        ("9.0.0", {"en-US/sms.txt.j2": "x"}, 422, "files.en-US/sms.txt.j2"),
        ("9.0", {"pt-BR/sms.txt.j2": "x"}, 422, "version"),
    ],
)
def test_a_bad_draft_names_its_file_and_writes_nothing(
    service: Service, version: str, files: dict[str, Any], status: int, path: str | None
) -> None:
    response = _draft(service, version, files)
    assert response.status_code == status, response.text
    if path is not None:
        assert path in [e["path"] for e in response.json()["errors"]]
    listed = service.client.get(f"{BASE}/versions", headers=service.auth("editor")).json()
    assert version not in [v["version"] for v in listed]


def test_a_kind_change_is_refused(service: Service) -> None:
    manifest = service.client.get(f"{BASE}/versions/1.0.0", headers=service.auth("editor")).json()
    changed = manifest["files"]["manifest.yaml"].replace("kind: notice", "kind: letter")
    changed = changed.replace("version: 1.0.0", "version: 8.0.0")
    response = _draft(service, "8.0.0", {"manifest.yaml": changed})
    assert response.status_code == 422
    assert "kind cannot change" in response.text


def test_submit_lints_and_leaves_a_broken_draft_a_draft(service: Service) -> None:
    broken = "{{ payer.name }\nAviso {{ doc.id }}\n"
    assert _draft(service, "7.0.0", {"pt-BR/sms.txt.j2": broken}).status_code == 201
    refused = _post(service, "/versions/7.0.0/submit", "editor")
    assert refused.status_code == 422
    assert any("sms.txt.j2" in e["path"] for e in refused.json()["errors"])
    state = service.client.get(f"{BASE}/versions/7.0.0", headers=service.auth("editor")).json()
    assert state["state"] == "draft"


def test_lint_finds_a_missing_mandatory_element(service: Service) -> None:
    files = service.client.get(f"{BASE}/versions/1.0.0", headers=service.auth("editor")).json()
    without_deadline = "Aviso {{ doc.id }}: {{ operator.name }}.\n"
    assert "{{" in files["files"]["pt-BR/sms.txt.j2"]
    assert _draft(service, "7.1.0", {"pt-BR/sms.txt.j2": without_deadline}).status_code == 201
    refused = _post(service, "/versions/7.1.0/submit", "editor")
    assert refused.status_code == 422
    assert any("[sms]" in e["path"] for e in refused.json()["errors"]), refused.text


def test_roles(service: Service) -> None:
    body = {"version": "6.0.0", "files": {"pt-BR/sms.txt.j2": "x"}}
    for who in ("submitter", "legal", "approver"):
        assert _post(service, "/versions", who, body).status_code == 403
    assert service.client.post(f"{BASE}/versions", json=body).status_code == 401
    missing = service.client.get(f"{BASE}/versions/0.0.9", headers=service.auth("editor"))
    assert missing.status_code == 404


def test_a_new_template_goes_through_the_same_workflow(service: Service) -> None:
    source = service.client.get(
        "/v1/templates/second_copy/versions/1.0.0", headers=service.auth("editor")
    ).json()["files"]
    files = dict(source)
    files["manifest.yaml"] = source["manifest.yaml"].replace(
        "id: second_copy", "id: second_copy_dental"
    )
    created = service.client.post(
        "/v1/templates/second_copy_dental/versions",
        json={"version": "1.0.0", "files": files},
        headers=service.auth("editor"),
    )
    assert created.status_code == 201, created.text
    listed = [
        t["id"] for t in service.client.get("/v1/templates", headers=service.auth("editor")).json()
    ]
    assert "second_copy_dental" not in listed  # a draft is nobody's template yet
    path = "/v1/templates/second_copy_dental/versions/1.0.0"
    assert service.client.post(f"{path}/submit", headers=service.auth("editor")).status_code == 200
    assert (
        service.client.post(f"{path}/approve", headers=service.auth("approver")).status_code == 200
    )
    listed = [
        t["id"] for t in service.client.get("/v1/templates", headers=service.auth("editor")).json()
    ]
    assert "second_copy_dental" in listed
    pdf = service.client.post(
        "/v1/templates/second_copy_dental/preview", json={}, headers=service.auth("editor")
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_pinned_version_stays_what_it_was(service: Service) -> None:
    """A worker composes each communication with the version it was accepted with, even
    after a newer one is approved, and on a machine that never saw it on disk."""
    catalog = TemplateCatalog(
        engine=service.engine,
        composer=service.client.app.state.services.composer,  # type: ignore[attr-defined]
        versions_dir=service.settings.home / "other-machine",
    )
    text = _email_text(service).replace(MARKER, "Versão dez.")
    catalog.create_draft("delinquency_notice", "10.0.0", {"pt-BR/email.txt.j2": text}, by="a")
    catalog.submit("delinquency_notice", "10.0.0", by="a")
    catalog.approve("delinquency_notice", "10.0.0", by="b")
    catalog.create_draft("delinquency_notice", "10.1.0", {}, by="a")
    old = catalog.pinned("delinquency_notice", "1.0.0")
    new = catalog.pinned("delinquency_notice", "10.0.0")
    assert catalog.current_version("delinquency_notice") == "10.0.0"
    assert old.library.manifest("delinquency_notice").version == "1.0.0"
    assert new.library.manifest("delinquency_notice").version == "10.0.0"
    assert (service.settings.home / "other-machine" / "delinquency_notice").is_dir()
    with pytest.raises(LookupError):
        catalog.pinned("delinquency_notice", "10.1.0")  # a draft is never sent
