"""Call scripts: the engine fixes the order of the procedure, templates supply the words.

Voice (IVR) and agent scripts are Jinja sources made of named blocks. The engine
renders the blocks and puts them in the order the call procedure requires:

- voice: greeting, recording notice, identity prompts (keypad), identity failure, then
  the notice, the options and the goodbye, and what is said when the person disputes
  the debt or asks for an attendant;
- agent: protocol number first (RN 623), recording notice, identity check (three items,
  CPF mandatory), who is on the line, then the notice for the responsible person, or
  the words for anyone else (a dependent must never hear of a debt).

Every step that can be heard before identity is confirmed, or by someone other than the
responsible person, is checked for debt vocabulary, amounts and CPF numbers in what is
said: the whole text of an IVR step, the ``<q>`` lines of an agent step (the
rest of an agent step is guidance the agent reads, such as "do not mention values").
A template that would disclose the debt before identity is confirmed, or to a third
party, does not render.
"""

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import Template

from ccm.composition.outputs import ScriptStep
from ccm.composition.text import one_line, spoken_text
from ccm.errors import TemplateError

__all__ = [
    "AGENT_DISCLOSING",
    "AGENT_STEPS",
    "IDENTITY_ITEMS",
    "VOICE_DISCLOSING",
    "VOICE_STEPS",
    "assert_no_disclosure",
    "render_steps",
]

IDENTITY_ITEMS: dict[str, int] = {
    "cpf_prefix": 3,
    "cpf_suffix": 2,
    "birth_year": 4,
    "birth_date": 8,
}
"""Keypad identity items and their digit counts. What the person types is compared
by the IVR; it is never stored in clear."""

VOICE_STEPS = (
    "greeting",
    "recording_notice",
    "identity_intro",
    "identity_failed",
    "notice",
    "options",
    "goodbye",
    "dispute_recorded",
    "transfer",
)
AGENT_STEPS = (
    "protocol",
    "recording_notice",
    "identity_check",
    "interlocutor",
    "notice",
    "third_party",
    "closing",
)
VOICE_DISCLOSING = frozenset({"notice", "options", "goodbye", "dispute_recorded", "transfer"})
"""IVR steps played only after the identity check passed."""
AGENT_DISCLOSING = frozenset({"notice"})
"""The only agent step reserved for the responsible person; a dependent may hear the rest."""

_DISCLOSURE = re.compile(
    r"d[ée]bito|d[íi]vida|inadimpl|em atraso|atrasad|pend[êe]ncias?\s+financeir|cobran[çc]a"
    r"|boleto|\bpix\b|valor(?:es)?\s+(?:em aberto|devidos?)|mensalidades?\s+(?:em aberto|vencidas?)"
    r"|rescis|suspens|\bpagar\b|pagamento|R\$\s*\d|\d[\d.\s]*,\d{2}\s*€"
    r"|\d{3}\.\d{3}\.\d{3}-\d{2}|\b\d{11}\b",
    re.IGNORECASE,
)


def assert_no_disclosure(step: str, said: str, *, template: str, channel: str) -> None:
    """Refuse a non-notice step whose spoken words mention the debt, an amount or a CPF.

    Raises:
        TemplateError: naming the step and the words found.
    """
    match = _DISCLOSURE.search(said)
    if match:
        raise TemplateError(
            f"{channel} step {step!r} would disclose the debt or personal data before the "
            f"identity of the responsible person is confirmed: found {match.group(0)!r}",
            template=template,
        )


def render_steps(
    template: Template,
    context: Mapping[str, Any],
    names: tuple[str, ...],
    *,
    disclosing: frozenset[str],
    ref: str,
    channel: str,
    plain: bool,
) -> dict[str, ScriptStep]:
    """Render the named blocks of ``template`` into guarded steps.

    Raises:
        TemplateError: a block is missing or a non-notice block discloses the debt.
    """
    missing = [n for n in names if n not in template.blocks]
    if missing:
        raise TemplateError(f"{channel} source lacks blocks: {', '.join(missing)}", template=ref)
    ctx = template.new_context(dict(context))
    steps: dict[str, ScriptStep] = {}
    for name in names:
        text = "".join(template.blocks[name](ctx)).strip()
        if plain:
            text = one_line(text)
        discloses = name in disclosing
        if not discloses:
            said = text if plain else spoken_text(text)
            assert_no_disclosure(name, said, template=ref, channel=channel)
        steps[name] = ScriptStep(id=name, text=text, discloses=discloses)
    return steps
