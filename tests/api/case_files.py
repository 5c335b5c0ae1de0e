"""RN 593 case files and ladder profiles for the tests that import cases."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ccm.rn593.ladder import load_profile
from ccm.service.cases import local_date

__all__ = ["ADDRESS", "SAMPLES", "case_file", "ladder_profile"]

SAMPLES = Path(__file__).parents[2] / "ccm" / "rn593" / "samples"
ADDRESS = {"line1": "Rua das Palmeiras, 245", "district": "Vila Mariana",
           "city": "São Paulo", "state": "SP", "postal_code": "04107-020"}  # fmt: skip


def ladder_profile(folder: Path, **changes: Any) -> Path:
    """The shipped profile without quiet hours (tests run at any hour), plus ``changes``."""
    profile = load_profile(SAMPLES / "operator-profile.json")
    profile = profile.model_copy(update={"quiet_hours": None, **changes})
    path = folder / f"profile-{len(list(folder.glob('profile-*')))}.json"
    path.write_text(profile.model_dump_json(), encoding="utf-8")
    return path


def case_file(
    contract: str,
    *,
    oldest: int = 40,
    email: str | None = "pagador.sem-resposta@example.com",
    phone: str | None = "+5511987650000",
    address: bool = True,
    source: str | None = "contractor",
    paid: bool = False,
    notices: tuple[dict[str, Any], ...] = (),
    role: str = "titular",
) -> dict[str, Any]:
    """A familiar contract with two installments ``oldest`` and ``oldest - 30`` days due."""
    today = local_date(datetime.now(UTC))
    provenance = {"source": source, "updated_on": "2026-01-10"} if source else {}
    contacts: dict[str, Any] = {}
    if email:
        contacts["email"] = {"value": email, **provenance}
    if phone:
        contacts["phone"] = {"value": phone, **provenance}
    if address:
        contacts["address"] = {"value": ADDRESS, **provenance}
    dues = [today - timedelta(days=oldest), today - timedelta(days=oldest - 30)]
    return {
        "case": {
            "contract": {"id": contract, "type": "familiar", "pays_operator_directly": True},
            "payer": {"name": "Ana Lúcia Ferreira", "cpf": "284.197.365-46", "role": role},
            "installments": [
                {
                    "competence": f"{due:%Y-%m}",
                    "due_date": due.isoformat(),
                    "amount": "612.30",
                    "paid_on": today.isoformat() if paid else None,
                }
                for due in dues
            ],  # fmt: skip
            "notices": list(notices),
        },
        "plan": {"name": "Vida Plena Família", "ans_product_number": "478.912/17-3"},
        "beneficiaries": [
            {"name": "Ana Lúcia Ferreira", "cpf": "284.197.365-46", "relationship": "titular"}
        ],
        "payer_birth_date": "1979-04-17",
        "contacts": contacts,
        "ticket": f"T-{contract}",
    }
