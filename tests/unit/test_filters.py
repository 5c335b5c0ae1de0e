"""pt-BR and pt-PT formatting of money, dates, identifiers and phones."""

from datetime import date
from decimal import Decimal

import pytest

from ccm.composition.filters import filters_for

BR = filters_for("pt-BR")
PT = filters_for("pt-PT")


def test_money_follows_the_locale() -> None:
    assert BR["money"]("1234.50") == "R$\xa01.234,50"
    assert BR["money"](Decimal("0.05")) == "R$\xa00,05"
    assert PT["money"]("1234.50") == "1\xa0234,50\xa0€"
    assert PT["money"]("123456.78") == "123\xa0456,78\xa0€"


def test_dates() -> None:
    assert BR["date"]("2026-12-01") == "01/12/2026"
    assert PT["date"](date(2026, 12, 1)) == "01/12/2026"
    assert BR["date_long"]("2026-11-21") == "21 de novembro de 2026"
    assert BR["month_year"]("2026-10") == "outubro de 2026"
    assert BR["competence"]("2026-10") == "10/2026"


def test_identifiers() -> None:
    assert BR["cpf"]("28419736546") == "284.197.365-46"
    assert BR["cpf_masked"]("284.197.365-46") == "***.197.365-**"
    assert BR["cnpj"]("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert BR["cep"]("04107020") == "04107-020"
    assert PT["nif"]("503927180") == "503 927 180"


@pytest.mark.parametrize(
    ("filters", "raw", "shown"),
    [
        (BR, "+55 11 98765-4321", "(11) 98765-4321"),
        (BR, "+55 800 722 4000", "0800 722 4000"),
        (PT, "+351 213 000 000", "213 000 000"),
        (PT, "+351 912 345 678", "912 345 678"),
        (BR, "+351 213 000 000", "+351 21 300 0000"),
    ],
)
def test_phones_are_national_at_home_and_international_abroad(
    filters: dict[str, object], raw: str, shown: str
) -> None:
    assert filters["phone"](raw) == shown  # type: ignore[operator]
