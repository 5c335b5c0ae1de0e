"""CPF, CNPJ (numeric and alphanumeric), NIF, S10 tracking codes, ANS protocols."""

from datetime import date

import pytest

from ccm.identifiers import (
    InvalidIdentifier,
    ProtocolFormat,
    ProtocolIssuer,
    format_cnpj,
    format_cpf,
    mask_cpf,
    s10_check_digit,
    validate_cnpj,
    validate_cpf,
    validate_nif,
    validate_tracking_code,
)
from ccm.identifiers.tracking import make_tracking_code


class TestCpf:
    def test_domain_vector_is_valid(self) -> None:
        assert validate_cpf("111.444.777-35") == "11144477735"

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("111.444.777-36", "invalid CPF check digits"),
            ("111.444.777-53", "invalid CPF check digits"),
            ("111.111.111-11", "all digits are equal"),
            ("000.000.000-00", "all digits are equal"),
            ("111.444.777-3", "11 digits"),
            ("111a444777-35", "only digits"),
        ],
    )
    def test_rejections_name_the_rule(self, value: str, message: str) -> None:
        with pytest.raises(InvalidIdentifier, match=message):
            validate_cpf(value)

    def test_format_and_mask(self) -> None:
        assert format_cpf("11144477735") == "111.444.777-35"
        # R46: the short channels show only the middle digits.
        assert mask_cpf("111.444.777-35") == "***.444.777-**"


class TestCnpj:
    def test_numeric_vector(self) -> None:
        assert validate_cnpj("11.444.777/0001-61") == "11444777000161"

    def test_alphanumeric_vector(self) -> None:
        assert validate_cnpj("12.ABC.345/01DE-35") == "12ABC34501DE35"

    def test_lowercase_alphanumeric_is_normalised(self) -> None:
        assert validate_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("11.444.777/0001-62", "check digits"),
            ("12.ABC.345/01DE-36", "check digits"),
            ("12.ABC.345/01DE-3A", "2 check digits"),
            ("11.444.777/0001", "2 check digits"),
        ],
    )
    def test_rejections(self, value: str, message: str) -> None:
        with pytest.raises(InvalidIdentifier, match=message):
            validate_cnpj(value)

    def test_format_keeps_letters_as_text(self) -> None:
        assert format_cnpj("12ABC34501DE35") == "12.ABC.345/01DE-35"


class TestNif:
    def test_valid_and_invalid(self) -> None:
        assert validate_nif("503 927 180") == "503927180"
        with pytest.raises(InvalidIdentifier, match="check digit"):
            validate_nif("503927181")
        with pytest.raises(InvalidIdentifier, match="9 digits"):
            validate_nif("50392718")


class TestS10:
    @pytest.mark.parametrize(
        ("serial", "digit"), [("47312482", 9), ("19469069", 8), ("46020941", 5)]
    )
    def test_domain_vectors(self, serial: str, digit: int) -> None:
        assert s10_check_digit(serial) == digit

    @pytest.mark.parametrize(
        ("serial", "remainder", "digit"),
        [("00000000", 0, 5), ("00000008", 1, 0), ("00000003", 10, 1)],
    )
    def test_remainder_rules(self, serial: str, remainder: int, digit: int) -> None:
        # Weights 8,6,4,2,3,5,9,7: "00000008" sums to 56 (56 % 11 == 1), "00000003" to 21.
        weights = (8, 6, 4, 2, 3, 5, 9, 7)
        assert sum(int(d) * w for d, w in zip(serial, weights, strict=True)) % 11 == remainder
        assert s10_check_digit(serial) == digit

    def test_validate_and_make(self) -> None:
        assert validate_tracking_code("RA473124829BR") == "RA473124829BR"
        assert make_tracking_code("RB", 47312482) == "RB473124829BR"
        with pytest.raises(InvalidIdentifier, match="check digit"):
            validate_tracking_code("RA473124828BR")
        with pytest.raises(InvalidIdentifier, match="end in BR"):
            validate_tracking_code("RA473124829PT")
        with pytest.raises(InvalidIdentifier, match="2 letters, 9 digits"):
            validate_tracking_code("RA47312482BR")


class _Counter:
    def __init__(self) -> None:
        self.values: dict[tuple[str, date], int] = {}

    def next_value(self, scope: str, day: date) -> int:
        key = (scope, day)
        self.values[key] = self.values.get(key, 0) + 1
        return self.values[key]


class TestProtocol:
    def test_default_layout_is_registration_date_sequence(self) -> None:
        issuer = ProtocolIssuer(layout=ProtocolFormat(), store=_Counter())
        day = date(2026, 11, 21)
        assert issuer.issue(ans_registration="412345", day=day) == "41234520261121000001"
        assert issuer.issue(ans_registration="412345", day=day) == "41234520261121000002"
        assert issuer.issue(ans_registration="412345", day=date(2026, 11, 22)).endswith("000001")

    def test_validation_rejects_bad_dates_and_shapes(self) -> None:
        layout = ProtocolFormat()
        with pytest.raises(InvalidIdentifier, match="impossible date"):
            layout.validate("41234520261341000001")
        with pytest.raises(InvalidIdentifier, match="does not match"):
            layout.validate("4123452026112100001")

    def test_validation_can_be_switched_off(self) -> None:
        assert ProtocolFormat(pattern=None).validate("anything") == "anything"

    def test_sequence_exhaustion_is_an_error(self) -> None:
        with pytest.raises(InvalidIdentifier, match="outside"):
            ProtocolFormat().format(ans_registration="412345", day=date(2026, 1, 1), sequence=10**6)


def test_unicode_digits_are_not_digits() -> None:
    with pytest.raises(InvalidIdentifier):
        validate_nif("５０３９２７１８０")
    with pytest.raises(InvalidIdentifier):
        validate_tracking_code("RA４７３１２４８２９BR")
    with pytest.raises(InvalidIdentifier, match="does not match"):
        ProtocolFormat().validate("４１２３４５20261121000001")
    with pytest.raises(InvalidIdentifier, match="does not match"):
        ProtocolFormat().validate("41234520261121000001\n")
