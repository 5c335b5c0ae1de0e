"""Termination letters: the dates the law requires are checked, not merely printed.

pt-BR (health plans; the data has an ``operator``): the termination rests on a proven
notice (R24) that gave at least 10 days to pay (R4), may only start after that deadline,
and never while the titular is hospitalised (Lei 9.656/1998 art. 13, III; R11). The
request must state the hospitalisation status explicitly; it is a blocking flag only and
the letter never prints it (R45: no health information in collection communications).

pt-PT (insurers; the data has an ``insurer``): a resolution for non-payment needs the
premium notice sent at least 30 days before the due date (RJCS art. 60; R50), and takes
effect no earlier than that due date (art. 61).
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ccm.composition.filters import as_date
from ccm.documents.delinquency_notice import MINIMUM_DAYS_TO_PAY
from ccm.documents.model import DocumentInfo
from ccm.errors import DataError

__all__ = ["PREMIUM_NOTICE_DAYS", "ContractTermination"]

PREMIUM_NOTICE_DAYS = 30


class ContractTermination:
    """Checks of ``contract_termination_letter`` in both locales."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        if "operator" in data:
            return self._health_plan(data)
        return self._insurance(data)

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        return {}

    @staticmethod
    def _health_plan(data: Mapping[str, Any]) -> list[DataError]:
        errors = []
        notice = data["notice"]
        deadline = as_date(notice["payment_deadline"])
        if deadline < as_date(notice["notified_on"]) + timedelta(days=MINIMUM_DAYS_TO_PAY):
            errors.append(
                DataError(
                    path="notice.payment_deadline",
                    message=f"must be at least {MINIMUM_DAYS_TO_PAY} days after notice.notified_on "
                    "(RN 593, rule R4)",
                )
            )
        if as_date(data["termination_date"]) <= deadline:
            errors.append(
                DataError(
                    path="termination_date",
                    message="must be after notice.payment_deadline (RN 593, rule R4)",
                )
            )
        if data["titular_hospitalized"] is not False:
            errors.append(
                DataError(
                    path="titular_hospitalized",
                    message="the contract cannot be terminated while the titular is hospitalised "
                    "(Lei 9.656/1998 art. 13, III; rule R11)",
                )
            )
        return errors

    @staticmethod
    def _insurance(data: Mapping[str, Any]) -> list[DataError]:
        if data["reason"] != "nonpayment":
            return []
        notice = data.get("premium_notice")
        if notice is None:
            return [
                DataError(path="premium_notice", message="is required for a nonpayment resolution")
            ]
        errors = []
        due = as_date(notice["due_date"])
        if as_date(notice["sent_on"]) > due - timedelta(days=PREMIUM_NOTICE_DAYS):
            errors.append(
                DataError(
                    path="premium_notice.sent_on",
                    message=f"must be at least {PREMIUM_NOTICE_DAYS} days before the due date "
                    "(RJCS art. 60, rule R50)",
                )
            )
        if as_date(data["effective_date"]) < due:
            errors.append(
                DataError(
                    path="effective_date",
                    message="must not be before premium_notice.due_date (RJCS art. 61)",
                )
            )
        return errors
