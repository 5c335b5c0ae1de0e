"""GSM 03.38 transliteration and segment counts."""

import pytest

from ccm.composition.sms import SmsEncoding, to_gsm7


def test_portuguese_letters_outside_gsm7_lose_their_accents() -> None:
    assert to_gsm7("notificação à Sra. Conceição – ação") == "notificacao à Sra. Conceicao - acao"
    # é, É, à, Ç and ü are in the GSM alphabet and stay.
    assert to_gsm7("É café à Çidade ü") == "É café à Çidade ü"
    assert to_gsm7("R$\xa01.234,50") == "R$ 1.234,50"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("ã" * 70, "UCS-2", 1),
        ("ã" * 71, "UCS-2", 2),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    info = SmsEncoding.of(text)
    assert (info.encoding, info.segments) == (encoding, segments)
