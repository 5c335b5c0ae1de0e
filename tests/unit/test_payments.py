"""PIX BR Code (R40) and boleto line and barcode (R41, R42), with domain.md's vectors."""

from datetime import date
from decimal import Decimal

import pytest

from ccm.payments import (
    Boleto,
    InvalidBoleto,
    InvalidBrCode,
    PixCharge,
    build_brcode,
    due_date_factor,
    factor_to_date,
    parse_brcode,
)
from ccm.payments.pix import crc16

BCB_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***6304"
)


class TestPix:
    def test_crc_of_the_bcb_example(self) -> None:
        assert crc16(BCB_EXAMPLE.encode()) == "1D3D"

    def test_bcb_example_parses(self) -> None:
        code = parse_brcode(BCB_EXAMPLE + "1D3D")
        assert code.key == "123e4567-e12b-12d1-a456-426655440000"
        assert code.merchant_name == "Fulano de Tal"
        assert code.merchant_city == "BRASILIA"
        assert code.amount is None
        assert code.txid == "***"

    def test_build_then_parse_round_trips(self) -> None:
        payload = build_brcode(
            PixCharge(
                key="41.287.035/0001-30",
                merchant_name="Vida Plena Saúde S.A. — Operadora de Planos",
                merchant_city="São José dos Campos",
                amount=Decimal("2653.34"),
                txid="CB33-BD77-FCFB-4CFB",
            )
        )
        code = parse_brcode(payload)
        assert code.key == "41287035000130"
        assert code.amount == Decimal("2653.34")
        assert code.txid == "CB33BD77FCFB4CFB"
        # R40: name at most 25 characters, city at most 15, accents removed.
        assert code.merchant_name == "Vida Plena Saude S.A. Ope"
        assert code.merchant_city == "Sao Jose dos Ca"
        assert payload[-8:-4] == "6304"

    def test_gui_is_case_insensitive(self) -> None:
        body = BCB_EXAMPLE.replace("br.gov.bcb.pix", "BR.GOV.BCB.PIX")
        assert parse_brcode(body + crc16(body.encode())).merchant_city == "BRASILIA"

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            (BCB_EXAMPLE + "1D3E", "CRC does not match"),
            (BCB_EXAMPLE[:-4], "must end with the CRC"),
        ],
    )
    def test_corrupt_payloads_are_refused(self, payload: str, message: str) -> None:
        with pytest.raises(InvalidBrCode, match=message):
            parse_brcode(payload)

    def test_wrong_currency_is_refused_even_with_a_good_crc(self) -> None:
        body = BCB_EXAMPLE.replace("5303986", "5303840")
        with pytest.raises(InvalidBrCode, match="field 53 must be 986"):
            parse_brcode(body + crc16(body.encode()))

    @pytest.mark.parametrize(
        ("key", "normalised"),
        [
            ("111.444.777-35", "11144477735"),
            ("Financeiro@VidaPlena.example", "financeiro@vidaplena.example"),
            ("+5511987654321", "+5511987654321"),
            ("123E4567-E12B-12D1-A456-426655440000", "123e4567-e12b-12d1-a456-426655440000"),
        ],
    )
    def test_key_types(self, key: str, normalised: str) -> None:
        payload = build_brcode(PixCharge(key=key, merchant_name="X", merchant_city="Y"))
        assert parse_brcode(payload).key == normalised

    @pytest.mark.parametrize("key", ["111.444.777-36", "11987654321x", "not a key"])
    def test_invalid_keys(self, key: str) -> None:
        with pytest.raises(InvalidBrCode, match="PIX key"):
            build_brcode(PixCharge(key=key, merchant_name="X", merchant_city="Y"))


SANTANDER_LINE = "03399.69925 58700.021924 06091.701018 8 90620000001000"
SANTANDER_BARCODE = "03398906200000010009699258700021920609170101"


class TestBoleto:
    def test_domain_vector(self) -> None:
        boleto = Boleto.from_line(SANTANDER_LINE)
        assert boleto.barcode == SANTANDER_BARCODE
        assert boleto.amount == Decimal("10.00")
        assert boleto.due_date(near=date(2022, 8, 1)) == date(2022, 7, 30)
        assert boleto.formatted_line == SANTANDER_LINE

    def test_barcode_round_trip(self) -> None:
        digits = SANTANDER_LINE.replace(" ", "").replace(".", "")
        assert Boleto.from_barcode(SANTANDER_BARCODE).line == digits

    @pytest.mark.parametrize(
        ("due", "factor"),
        [
            (date(2022, 7, 30), "9062"),
            (date(2025, 2, 21), "9999"),
            (date(2025, 2, 22), "1000"),
            (date(2025, 12, 31), "1312"),
            (date(2026, 7, 1), "1494"),
        ],
    )
    def test_due_date_factor_both_eras(self, due: date, factor: str) -> None:
        assert due_date_factor(due) == factor

    def test_factor_decoding_picks_the_nearest_era(self) -> None:
        # 1312 is 2025-12-31 in the new era and 2001-05-11 in the old one (1997-10-07 + 1312 days).
        assert factor_to_date("1312", near=date(2026, 1, 10)) == date(2025, 12, 31)
        assert factor_to_date("1312", near=date(2001, 5, 1)) == date(2001, 5, 11)
        assert factor_to_date("0000", near=date(2026, 1, 1)) is None

    def test_build_new_era(self) -> None:
        boleto = Boleto.build(
            bank="341",
            due=date(2026, 12, 1),
            amount=Decimal("2653.34"),
            free_field="1091234567812345678901230",
        )
        parsed = Boleto.from_line(boleto.line)
        assert parsed == boleto
        assert parsed.due_date(near=date(2026, 11, 21)) == date(2026, 12, 1)

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("03399.69926 58700.021924 06091.701018 8 90620000001000", "field 1"),
            ("03399.69925 58700.021925 06091.701018 8 90620000001000", "field 2"),
            ("03399.69925 58700.021924 06091.701019 8 90620000001000", "field 3"),
            ("03399.69925 58700.021924 06091.701018 7 90620000001000", "general check digit"),
            ("03399.69925 58700.021924 06091.701018 8 9062000000100", "47 digits"),
        ],
    )
    def test_each_check_digit_is_verified(self, line: str, message: str) -> None:
        with pytest.raises(InvalidBoleto, match=message):
            Boleto.from_line(line)

    def test_amounts_with_more_than_two_places_are_refused(self) -> None:
        with pytest.raises(InvalidBoleto, match="2 decimal places"):
            Boleto.build(bank="341", due=None, amount=Decimal("1.005"), free_field="0" * 25)


def test_a_long_key_leaves_the_description_out() -> None:
    key = "a" * 59 + "@vidaplena.example"  # 77 characters: field 26 is full
    payload = build_brcode(
        PixCharge(key=key, merchant_name="X", merchant_city="Y", description="Aviso 123")
    )
    assert parse_brcode(payload).key == key


def test_a_receiver_without_latin_letters_is_refused() -> None:
    with pytest.raises(InvalidBrCode, match="Latin letters"):
        build_brcode(PixCharge(key="11144477735", merchant_name="株式会社", merchant_city="Y"))


def test_a_non_numeric_amount_is_a_brcode_error() -> None:
    body = BCB_EXAMPLE.replace("5303986", "53039865404x.yz")
    with pytest.raises(InvalidBrCode, match="not an amount"):
        parse_brcode(body + crc16(body.encode()))
