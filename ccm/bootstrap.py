"""Composition root: builds ccm's objects from :class:`~ccm.config.Settings`.

The only module of ``ccm`` that imports adapters (``signing``); everything it builds
gets its collaborators through keyword-only constructor arguments.
"""

from datetime import date

from ccm.composition import BrandBook, Composer, PdfRenderer, TemplateLibrary
from ccm.config import Settings
from ccm.documents import MODELS
from ccm.errors import ConfigurationError
from ccm.identifiers import ProtocolIssuer
from ccm.persistence import SqlSequenceStore, create_database_engine, upgrade_database
from signing import (
    LocalTimestampAuthority,
    PadesProfile,
    PadesSigner,
    SignaturePolicy,
    SigningError,
    ensure_development_pki,
    http_timestamper,
    load_pkcs12,
)

__all__ = [
    "build_composer",
    "build_protocol_issuer",
    "build_signer",
    "today",
    "uses_development_pki",
]


def uses_development_pki(settings: Settings) -> bool:
    """True when documents are signed with the development PKI (they are specimens)."""
    return settings.signing_pkcs12 is None


def build_signer(settings: Settings) -> PadesSigner:
    """The PAdES signer: the configured PKCS#12 and TSA, or the development ones."""
    pki = None
    if settings.signing_pkcs12 is not None and settings.signing_pkcs12_password is not None:
        password = settings.signing_pkcs12_password.get_secret_value().encode()
        try:
            identity = load_pkcs12(settings.signing_pkcs12, password)
        except SigningError as err:
            raise ConfigurationError(f"CCM_SIGNING_PKCS12: {err}") from err
    else:
        pki = ensure_development_pki(settings.pki_dir)
        identity = pki.signer()
    if settings.tsa_url is not None:
        password_value = settings.tsa_password.get_secret_value() if settings.tsa_password else None
        timestamper = http_timestamper(
            str(settings.tsa_url),
            username=settings.tsa_username,
            password=password_value,
            timeout=settings.tsa_timeout_seconds,
        )
    else:
        pki = pki or ensure_development_pki(settings.pki_dir)
        timestamper = LocalTimestampAuthority(pki.tsa())
    policy = None
    if settings.signing_policy_oid and settings.signing_policy_hash:
        policy = SignaturePolicy(
            oid=settings.signing_policy_oid,
            digest_algorithm=settings.signing_policy_hash_algorithm,
            digest=bytes.fromhex(settings.signing_policy_hash),
            uri=settings.signing_policy_uri,
        )
    profile = PadesProfile(
        reason=settings.signing_reason, location=settings.signing_location, policy=policy
    )
    return PadesSigner(identity, timestamper=timestamper, profile=profile)


def build_composer(settings: Settings, *, sign: bool = True) -> Composer:
    """A composer over the configured template library and brands."""
    return Composer(
        library=TemplateLibrary(settings.templates_dir),
        brands=BrandBook(settings.resolved_brands_dir),
        pdf=PdfRenderer(allowed_roots=(settings.templates_dir, settings.resolved_brands_dir)),
        models=MODELS,
        signer=build_signer(settings) if sign else None,
        public_base_url=str(settings.public_base_url),
        specimen=uses_development_pki(settings),
    )


def build_protocol_issuer(settings: Settings) -> ProtocolIssuer:
    """Protocol numbers from the configured database (migrated first when embedded)."""
    engine = create_database_engine(settings.resolved_database_url)
    if engine.dialect.name == "sqlite":
        upgrade_database(engine)
    return ProtocolIssuer(layout=settings.protocol_format, store=SqlSequenceStore(engine))


def today() -> date:
    """The current date; only entry points call it, never the composition engine."""
    return date.today()
