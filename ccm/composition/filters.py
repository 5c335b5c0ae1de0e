"""Jinja2 filters for pt-BR and pt-PT documents: money, dates, identifiers, phones.

Every filter accepts the JSON form a client sends (ISO date strings, decimal strings)
as well as Python values, so templates never parse data themselves. Formats follow
CLDR through Babel, with the fixed ``dd/MM/yyyy`` numeric date used on both sides of
the Atlantic in formal letters.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from ccm.identifiers import format_cnpj, format_cpf, mask_cpf

__all__ = ["LOCALES", "as_date", "as_decimal", "filters_for", "format_cep", "format_nif"]

LOCALES: dict[str, dict[str, str]] = {
    "pt-BR": {"babel": "pt_BR", "currency": "BRL", "region": "BR"},
    "pt-PT": {"babel": "pt_PT", "currency": "EUR", "region": "PT"},
}


def format_nif(value: str) -> str:
    """A Portuguese NIF as printed: ``503 927 180``."""
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def format_cep(value: str) -> str:
    """A CEP as printed: ``04107-020``."""
    digits = "".join(ch for ch in value if ch in "0123456789")
    return f"{digits[:5]}-{digits[5:]}"


def as_date(value: date | str) -> date:
    """``date`` or ``YYYY-MM-DD`` (also ``YYYY-MM``, read as the month's first day)."""
    if isinstance(value, date):
        return value
    if len(value) == 7:
        value += "-01"
    return date.fromisoformat(value)


def as_decimal(value: Decimal | str | int | float) -> Decimal:
    """A decimal from a decimal string, an int or a Decimal (floats via ``str``)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def filters_for(locale: str) -> dict[str, Callable[..., Any]]:
    """The filter table of one locale."""
    conf = LOCALES[locale]
    babel_locale = conf["babel"]

    def money(value: Decimal | str | int) -> str:
        return format_currency(as_decimal(value), conf["currency"], locale=babel_locale)

    def number(value: Decimal | str | int, places: int = 2) -> str:
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(as_decimal(value), format=pattern, locale=babel_locale)

    def date_short(value: date | str) -> str:
        return format_date(as_date(value), "dd/MM/yyyy", locale=babel_locale)

    def date_long(value: date | str) -> str:
        return format_date(as_date(value), "long", locale=babel_locale)

    def month_year(value: date | str) -> str:
        return format_date(as_date(value), "MMMM 'de' yyyy", locale=babel_locale)

    def competence(value: date | str) -> str:
        return format_date(as_date(value), "MM/yyyy", locale=babel_locale)

    def phone(value: str) -> str:
        try:
            parsed = phonenumbers.parse(value, conf["region"])
        except phonenumbers.NumberParseException:
            return value
        national = str(parsed.national_number)
        if phonenumbers.region_code_for_number(parsed) == conf["region"]:
            if conf["region"] == "PT" and len(national) == 9:
                # Portuguese letters group all nine digits in threes: 213 000 000.
                return f"{national[:3]} {national[3:6]} {national[6:]}"
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    return {
        "money": money,
        "number": number,
        "date": date_short,
        "date_long": date_long,
        "month_year": month_year,
        "competence": competence,
        "cpf": format_cpf,
        "cpf_masked": mask_cpf,
        "cnpj": format_cnpj,
        "nif": format_nif,
        "cep": format_cep,
        "phone": phone,
    }
