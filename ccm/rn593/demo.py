"""The demo delinquency case ``ccm serve --demo`` imports, dated from today.

The payer's e-mail is never read and texts to her number are never answered (sandbox
conventions: ``sem-resposta``, a number ending in ``0000``), so the ladder climbs from
e-mail and WhatsApp to the IVR call, where she confirms her data. The demo profile runs
the default ladder's steps 30 and 60 seconds apart instead of 2 and 5 days.
"""

from datetime import date, timedelta

from ccm.rn593.casefile import CaseFile
from ccm.rn593.ladder import LadderProfile, LadderStep

__all__ = ["demo_case", "demo_profile"]


def demo_case(today: date) -> CaseFile:
    """A familiar contract with two unpaid installments, 40 and 10 days overdue."""
    dues = (today - timedelta(days=70), today - timedelta(days=40), today - timedelta(days=10))

    def installment(due: date, paid: bool) -> dict[str, object]:
        return {
            "competence": f"{due:%Y-%m}",
            "due_date": due.isoformat(),
            "amount": "1287.40",
            "paid_on": (due + timedelta(days=3)).isoformat() if paid else None,
        }

    provenance = {"source": "contractor", "updated_on": (today - timedelta(days=200)).isoformat()}
    return CaseFile.model_validate(
        {
            "case": {
                "contract": {
                    "id": "VP-DEMO-0048213",
                    "type": "familiar",
                    "pays_operator_directly": True,
                },
                "payer": {
                    "name": "Maria Aparecida dos Santos Oliveira",
                    "cpf": "284.197.365-46",
                    "role": "titular",
                },
                "installments": [installment(dues[0], True)]
                + [installment(due, False) for due in dues[1:]],
            },
            "plan": {"name": "Vida Plena Família Essencial", "ans_product_number": "478.912/17-3"},
            "beneficiaries": [
                {
                    "name": "Maria Aparecida dos Santos Oliveira",
                    "cpf": "284.197.365-46",
                    "relationship": "titular",
                },
                {
                    "name": "João Pedro Oliveira",
                    "cpf": "517.309.246-70",
                    "relationship": "dependente",
                },
            ],
            "payer_birth_date": "1979-04-17",
            "contacts": {
                "email": {"value": "maria.sem-resposta@example.com", **provenance},
                "phone": {"value": "+5511987650000", **provenance},
                "address": {
                    "value": {
                        "line1": "Rua das Palmeiras, 245",
                        "line2": "apto 82",
                        "district": "Vila Mariana",
                        "city": "São Paulo",
                        "state": "SP",
                        "postal_code": "04107-020",
                    },
                    **provenance,
                },
            },
            "ticket": "COB-DEMO-1",
        }
    )


def demo_profile(base: LadderProfile) -> LadderProfile:
    """``base`` with the default ladder compressed to seconds and no quiet hours, so the
    demo runs at any hour (demo only: real profiles keep rule R22's quiet hours)."""
    steps = tuple(
        LadderStep(channels=step.channels, after=timedelta(seconds=30 * index))
        for index, step in enumerate(base.steps)
    )
    return base.model_copy(update={"steps": steps, "quiet_hours": None})
