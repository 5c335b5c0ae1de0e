"""Operator branding from configuration: logo, colours and letterhead wording.

A brand folder holds ``brand.yaml`` and its logo::

    name: Vida Plena Saúde
    issuers: ["11444777000161"]      # CNPJ / NIF this brand is used for
    logo: logo.svg
    colors: {primary: "#0B5D4B", accent: "#E8A317"}

The brand is chosen by the issuer's tax id in the request data, so one deployment
(a benefit administrator, say) can send for several operators. ``_default`` is
used when no brand claims the issuer: a neutral letterhead with the issuer's name.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ccm.composition.digests import tree_digest
from ccm.errors import ConfigurationError

__all__ = ["Brand", "BrandBook"]

_HEX = r"^#[0-9A-Fa-f]{6}$"


class _Colors(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    primary: str = Field(default="#1F3A5F", pattern=_HEX)
    accent: str = Field(default="#C8102E", pattern=_HEX)
    text: str = Field(default="#1E2A32", pattern=_HEX)
    muted: str = Field(default="#5A6872", pattern=_HEX)
    tint: str = Field(default="#EEF2F6", pattern=_HEX)


class _BrandFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    issuers: tuple[str, ...] = ()
    logo: str | None = None
    tagline: str | None = None
    colors: _Colors = _Colors()


@dataclass(frozen=True, slots=True, kw_only=True)
class Brand:
    """The visual identity the layouts use."""

    id: str
    name: str
    tagline: str | None
    logo_url: str | None
    """``file://`` URL of the logo, or ``None`` for a text letterhead."""
    colors: dict[str, str]
    digest: str
    """SHA-256 of the brand folder's files: renderings record which branding they used."""

    @property
    def css(self) -> str:
        """Custom properties the shared stylesheets read."""
        props = "".join(f"--brand-{k}: {v};" for k, v in self.colors.items())
        return f":root {{ {props} }}"


class BrandBook:
    """All brands of a deployment, indexed by issuer tax id."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ConfigurationError(f"brands folder {root} is not a folder (CCM_BRANDS_DIR)")
        self._brands: dict[str, Brand] = {}
        self._by_issuer: dict[str, str] = {}
        for folder in sorted(p for p in root.iterdir() if (p / "brand.yaml").exists()):
            try:
                spec = _BrandFile.model_validate(
                    yaml.safe_load((folder / "brand.yaml").read_text(encoding="utf-8"))
                )
            except (yaml.YAMLError, ValueError) as err:
                raise ConfigurationError(f"brand {folder}: {err}") from err
            logo = (folder / spec.logo).resolve() if spec.logo else None
            if logo is not None and not logo.exists():
                raise ConfigurationError(f"brand {folder}: logo {spec.logo} not found")
            brand = Brand(
                id=folder.name,
                name=spec.name,
                tagline=spec.tagline,
                logo_url=logo.as_uri() if logo else None,
                colors=spec.colors.model_dump(),
                digest=tree_digest([p for p in folder.rglob("*") if p.is_file()], base=root),
            )
            self._brands[brand.id] = brand
            for issuer in spec.issuers:
                key = re.sub(r"\W", "", issuer).upper()
                if key in self._by_issuer:
                    raise ConfigurationError(
                        f"brands {self._by_issuer[key]} and {brand.id} both claim issuer {issuer}"
                    )
                self._by_issuer[key] = brand.id
        if "_default" not in self._brands:
            raise ConfigurationError(f"brands in {root} need a _default brand")

    def for_issuer(self, tax_id: str | None) -> Brand:
        """The brand claiming ``tax_id``, else ``_default``."""
        key = re.sub(r"\W", "", tax_id or "").upper()
        return self._brands[self._by_issuer.get(key, "_default")]
