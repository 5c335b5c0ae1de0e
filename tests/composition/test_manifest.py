"""Manifest rules that protect the call procedures."""

import pytest
from pydantic import ValidationError

from ccm.composition.manifest import VoiceSpec


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (("cpf_prefix", "birth_year"), "at least 3 distinct identity items"),
        (("cpf_prefix", "cpf_prefix", "birth_year"), "at least 3 distinct identity items"),
        (("birth_year", "birth_date", "birth_year"), "at least 3 distinct"),
    ],
)
def test_the_ivr_confirms_three_items_with_a_cpf(items: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        VoiceSpec(identity_items=items)  # type: ignore[arg-type]
