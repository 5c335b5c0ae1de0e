"""Finding a mandatory value in extracted text."""

import pytest

from ccm.composition.text import contains


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ("147 dias de inadimplência", "47 dias de inadimplência", False),
        ("são 47 dias de inadimplência", "47 dias de inadimplência", True),
        ("total 11,00 €", "1,00 €", False),
        ("R$ 47,50 em aberto", "R$ 47", False),
        ("Av. Paulista, 1842, 12º andar", "Av. Paulista, 1842", True),
        ("0002012636\n0014br.gov", "00020126360014br.gov", True),
    ],
)
def test_contains_matches_whole_values(text: str, value: str, found: bool) -> None:
    assert contains(text, value) is found
