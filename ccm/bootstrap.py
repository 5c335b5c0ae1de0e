"""Composition root: builds ccm's objects from :class:`~ccm.config.Settings`.

The only module of ``ccm`` that imports adapters (``signing``, ``channels``); everything
it builds gets its collaborators through keyword-only constructor arguments.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from pyhanko.sign.timestamps import TimeStamper
from sqlalchemy import Engine

from ccm.composition import BrandBook, Composer, PdfRenderer, TemplateLibrary
from ccm.config import Settings
from ccm.documents import MODELS
from ccm.errors import ConfigurationError
from ccm.evidence.ledger import Ledger
from ccm.identifiers import ProtocolIssuer
from ccm.persistence import SqlSequenceStore, create_database_engine, upgrade_database
from ccm.persistence.artifacts import FileArtifactStore, S3ArtifactStore
from ccm.ports import ArtifactStore, ChannelAdapter
from ccm.service.communications import SUPPORTED_CHANNELS
from ccm.service.ladder import CaseLadder
from ccm.service.mail import LabelRange
from ccm.service.pipeline import Pipeline
from ccm.service.templates import TemplateCatalog
from ccm.workers.broker import build_broker
from ccm.workers.runtime import WorkerRuntime
from channels.agents import AgentQueueChannel
from channels.correios import CorreiosChannel
from channels.imap import ImapSettings, PollResult, poll_mailbox
from channels.mail_reports import record_report
from channels.sandbox import SandboxChannel, SandboxEmailChannel
from channels.ses import FailoverEmailChannel, SesChannel
from channels.smtp import SmtpChannel, SmtpSettings
from channels.twilio_messaging import TwilioMessagingChannel, twilio_client
from channels.twilio_voice import TwilioVoiceChannel
from signing import (
    LocalTimestampAuthority,
    PadesProfile,
    PadesSigner,
    SignaturePolicy,
    SigningError,
    SigningIdentity,
    SmimeMessageSigner,
    ensure_development_pki,
    http_timestamper,
    load_pkcs12,
)
from signing.seal import CmsSealer
from signing.verification import OfflineVerifier

__all__ = [
    "poll_inbound_mailbox",
    "build_artifact_store",
    "build_catalog",
    "build_channels",
    "build_pipeline",
    "build_runtime",
    "build_composer",
    "build_database",
    "build_ladder",
    "build_ledger",
    "build_sandbox_email",
    "build_sealer",
    "build_verifier",
    "development_trust_anchor",
    "load_trust_anchors",
    "offline_verifier",
    "build_protocol_issuer",
    "build_signer",
    "today",
    "uses_development_pki",
]


def uses_development_pki(settings: Settings) -> bool:
    """True when documents are signed with the development PKI (they are specimens)."""
    return settings.signing_pkcs12 is None


def _identity_and_timestamper(settings: Settings) -> tuple[SigningIdentity, TimeStamper]:
    """The configured signing identity and timestamp authority, or the development ones."""
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
    timestamper: TimeStamper
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
    return identity, timestamper


def build_signer(settings: Settings) -> PadesSigner:
    """The PAdES signer: the configured PKCS#12 and TSA, or the development ones."""
    identity, timestamper = _identity_and_timestamper(settings)
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
        pdf=PdfRenderer(
            allowed_roots=(
                settings.templates_dir,
                settings.resolved_brands_dir,
                settings.template_versions_dir,
            )
        ),
        models=MODELS,
        signer=build_signer(settings) if sign else None,
        public_base_url=str(settings.public_base_url),
        specimen=uses_development_pki(settings),
    )


def build_protocol_issuer(settings: Settings, engine: Engine | None = None) -> ProtocolIssuer:
    """Protocol numbers from the configured database (migrated first when embedded)."""
    engine = engine or build_database(settings)
    return ProtocolIssuer(layout=settings.protocol_format, store=SqlSequenceStore(engine))


def build_sealer(settings: Settings) -> CmsSealer:
    """Seals checkpoints and pack manifests with the document signer's key and TSA."""
    identity, timestamper = _identity_and_timestamper(settings)
    return CmsSealer(identity, timestamper=timestamper)


def build_verifier(settings: Settings, *, trust: Path | None = None) -> OfflineVerifier:
    """An offline verifier trusting ``trust`` (a PEM bundle), else the configured anchors.

    Raises:
        ConfigurationError: the bundle cannot be read or holds no certificate.
    """
    path = trust or settings.trust_anchors
    if path is None:
        path = ensure_development_pki(settings.pki_dir).ca_certificate
    return OfflineVerifier(load_trust_anchors(path))


def offline_verifier(trust_roots: list[x509.Certificate]) -> OfflineVerifier:
    """A verifier trusting exactly ``trust_roots``; needs no settings, database or network."""
    return OfflineVerifier(trust_roots)


def load_trust_anchors(path: Path) -> list[x509.Certificate]:
    """Certificates of a PEM bundle.

    Raises:
        ConfigurationError: unreadable, or no certificate in it.
    """
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as err:
        raise ConfigurationError(f"trust anchors {path}: {err}") from err
    if not certificates:
        raise ConfigurationError(f"trust anchors {path}: no PEM certificate in it")
    return certificates


def build_database(settings: Settings) -> Engine:
    """The configured database engine (migrated first when embedded)."""
    engine = create_database_engine(settings.resolved_database_url)
    if engine.dialect.name == "sqlite":
        upgrade_database(engine)
    return engine


def build_ledger(settings: Settings, engine: Engine | None = None) -> Ledger:
    """The evidence ledger in the configured database."""
    return Ledger(engine or build_database(settings), name=settings.ledger_name)


def build_artifact_store(settings: Settings) -> ArtifactStore:
    """Files under ``CCM_HOME/artifacts`` by default, S3 with Object Lock when configured.

    Raises:
        ConfigurationError: the bucket is unreachable or has no Object Lock.
    """
    target = settings.artifact_store or str(settings.home / "artifacts")
    if not target.startswith("s3://"):
        return FileArtifactStore(Path(target))
    import boto3

    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=str(settings.s3_endpoint_url) if settings.s3_endpoint_url else None,
    )
    return S3ArtifactStore(
        client,
        bucket=bucket,
        prefix=prefix,
        retention_days=settings.artifact_retention_days,
        mode=settings.artifact_lock_mode,
    )


def build_sandbox_email(
    settings: Settings,
    *,
    outbox: Path | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SandboxEmailChannel:
    """The sandbox e-mail channel writing to ``outbox`` (default ``CCM_HOME/outbox``)."""
    if clock is None:
        return SandboxEmailChannel(outbox or settings.outbox_dir)
    return SandboxEmailChannel(outbox or settings.outbox_dir, clock=clock)


def development_trust_anchor(settings: Settings) -> Path | None:
    """The development CA certificate, when documents are signed with the development PKI."""
    if not uses_development_pki(settings):
        return None
    return ensure_development_pki(settings.pki_dir).ca_certificate.resolve()


def build_channels(settings: Settings, engine: Engine) -> dict[str, ChannelAdapter]:
    """Channel adapters: the sandbox for every channel until real providers are configured."""
    channels: dict[str, ChannelAdapter] = {
        name: SandboxChannel(
            name,
            settings.outbox_dir,
            delivery_delay=timedelta(seconds=settings.sandbox_delivery_delay_seconds),
            proof_delay=timedelta(seconds=settings.sandbox_proof_delay_seconds),
        )
        for name in SUPPORTED_CHANNELS
        if name != "agent_call"  # the operator's own agents, never simulated
    }
    transports = settings.email_transports or (["smtp"] if settings.smtp_url else [])
    if transports:
        built = [_email_transport(settings, name) for name in transports]
        channels["email"] = built[0] if len(built) == 1 else FailoverEmailChannel(built)
    if settings.twilio_account_sid and settings.twilio_auth_token:
        client = twilio_client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            api_base_url=str(settings.twilio_api_base_url)
            if settings.twilio_api_base_url
            else None,
        )
        callback = str(settings.public_base_url).rstrip("/") + "/v1/webhooks/twilio/status"
        senders = {"sms": settings.twilio_sms_from, "whatsapp": settings.twilio_whatsapp_from}
        for name, sender in senders.items():
            if sender:
                channels[name] = TwilioMessagingChannel(
                    name,
                    client,
                    sender=sender,
                    status_callback=callback,
                    content_sids=settings.twilio_whatsapp_content_sids,
                )
        if settings.twilio_voice_from:
            api = settings.twilio_api_base_url
            channels["ivr"] = TwilioVoiceChannel(
                engine,
                client,
                caller_id=settings.twilio_voice_from,
                public_base_url=str(settings.public_base_url),
                auth_token=settings.twilio_auth_token.get_secret_value(),
                api_base_url=str(api) if api else "https://api.twilio.com",
            )
    channels["agent_call"] = AgentQueueChannel()
    if settings.correios_label_prefix:
        labels = LabelRange(
            prefix=settings.correios_label_prefix,
            first=settings.correios_label_first,
            last=settings.correios_label_last,
        )
        channels["registered_mail"] = CorreiosChannel(engine, labels)
    return channels


def _email_transport(settings: Settings, name: str) -> ChannelAdapter:
    """One e-mail transport as configured."""
    if name == "smtp":
        if settings.smtp_url is None or not settings.email_envelope_from:
            raise ConfigurationError(
                "the smtp e-mail transport needs CCM_SMTP_URL and CCM_EMAIL_ENVELOPE_FROM"
            )
        return SmtpChannel(
            SmtpSettings.from_url(settings.smtp_url.get_secret_value()),
            envelope_from=settings.email_envelope_from,
        )
    import boto3

    endpoint = str(settings.ses_endpoint_url) if settings.ses_endpoint_url else None
    client = boto3.client("sesv2", region_name=settings.ses_region, endpoint_url=endpoint)
    return SesChannel(client, configuration_set=settings.ses_configuration_set)


def build_catalog(settings: Settings, engine: Engine) -> TemplateCatalog:
    """Every template version, with the library's own registered as approved."""
    catalog = TemplateCatalog(
        engine=engine,
        composer=build_composer(settings),
        versions_dir=settings.template_versions_dir,
    )
    catalog.register_library()
    return catalog


def build_pipeline(settings: Settings, engine: Engine) -> Pipeline:
    """What a worker runs: template versions (signing), ledger, artefact store, channels."""
    return Pipeline(
        engine=engine,
        catalog=build_catalog(settings, engine),
        ledger=build_ledger(settings, engine),
        store=build_artifact_store(settings),
        channels=build_channels(settings, engine),
        signature="development" if uses_development_pki(settings) else "icp_brasil",
        email_signer=SmimeMessageSigner(_identity_and_timestamper(settings)[0]),
        protocols=ProtocolIssuer(layout=settings.protocol_format, store=SqlSequenceStore(engine)),
    )


def build_ladder(settings: Settings, engine: Engine) -> CaseLadder:
    """The RN 593 escalation ladder over the configured channels."""
    return CaseLadder(
        engine=engine,
        catalog=build_catalog(settings, engine),
        ledger=build_ledger(settings, engine),
        channels=SUPPORTED_CHANNELS,
    )


def build_runtime(settings: Settings, engine: Engine) -> WorkerRuntime:
    """A worker runtime on the configured broker (in-memory by default), advancing the
    RN 593 cases' ladders every ``rn593_interval_seconds``."""
    return WorkerRuntime(
        engine=engine,
        broker=build_broker(settings.broker_url),
        pipeline=build_pipeline(settings, engine),
        threads=settings.worker_threads,
        relay_interval=settings.relay_interval_seconds,
        timers=[(settings.rn593_interval_seconds, build_ladder(settings, engine).tick)],
    )


def today() -> date:
    """The current date; only entry points call it, never the composition engine."""
    return date.today()


def poll_inbound_mailbox(settings: Settings, url: str) -> PollResult:
    """Read the bounce and receipt mailbox at ``url`` once: every read receipt and DSN
    about a message ccm sent is recorded, as if posted to ``/v1/inbound/email``.

    Raises:
        ConfigurationError: not an IMAP URL.
        ChannelError: the mailbox could not be read.
    """
    mailbox = ImapSettings.from_url(url)
    engine = build_database(settings)
    store = build_artifact_store(settings)

    def handle(raw: bytes) -> bool:
        return record_report(engine, store, raw, now=datetime.now(UTC)).recorded

    try:
        return poll_mailbox(mailbox, handle)
    finally:
        engine.dispose()
