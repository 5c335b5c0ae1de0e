"""Settings: read once from ``CCM_*`` environment variables, then passed down.

Nothing else in ccm reads the environment. ``Settings()`` is built by an entry point
(the CLI today; the API and workers later) and handed to :mod:`ccm.bootstrap`.
"""

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import templates
from ccm.errors import ConfigurationError
from ccm.identifiers.errors import InvalidIdentifier
from ccm.identifiers.protocol import DEFAULT_LAYOUT, DEFAULT_PATTERN, ProtocolFormat

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every knob of a ccm deployment; the defaults are the embedded single-machine setup."""

    model_config = SettingsConfigDict(env_prefix="CCM_", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = "development"
    """``production`` refuses the development PKI and the local timestamp authority."""
    home: Path = Path("var")
    """Holds the embedded database, files and development keys."""
    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<home>/ccm.db``."""
    templates_dir: Path = templates.ROOT
    brands_dir: Path | None = None
    """Operator branding (logo, colours); default ``<templates_dir>/_brands``."""
    public_base_url: AnyHttpUrl = AnyHttpUrl("http://localhost:8000")
    """Base of links printed in messages (full notice, confirmation pages)."""

    signing_pkcs12: Path | None = None
    """PKCS#12 with the signing key and chain (an ICP-Brasil e-CNPJ A1 in production)."""
    signing_pkcs12_password: SecretStr | None = None
    signing_policy_oid: str | None = None
    """Signature policy OID, e.g. ICP-Brasil PAdES AD-RT ``2.16.76.1.7.1.12.1.3`` (rule R28)."""
    signing_policy_hash: str | None = None
    """Hex digest stated *inside* the policy document (rule R29), required with the OID."""
    signing_policy_hash_algorithm: Literal["sha256", "sha512"] = "sha256"
    signing_policy_uri: str | None = None
    signing_reason: str = "Documento emitido eletronicamente pelo remetente"
    signing_location: str = "Brasil"

    tsa_url: AnyHttpUrl | None = None
    """RFC 3161 timestamp authority; unset means the local development authority."""
    tsa_username: str | None = None
    tsa_password: SecretStr | None = None
    tsa_timeout_seconds: float = 10.0

    artifact_store: str | None = None
    """Where evidence artefacts go: a directory, or ``s3://bucket/prefix`` (a bucket created
    with Object Lock); default ``<home>/artifacts``."""
    s3_endpoint_url: AnyHttpUrl | None = None
    """An S3-compatible endpoint instead of AWS (MinIO, a local test server)."""
    s3_region: str = "sa-east-1"
    artifact_retention_days: int = Field(default=1825, ge=1, le=36500)
    """Object Lock retention of each artefact on S3 (default 5 years; rule R27)."""
    artifact_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    ledger_name: str = Field(default="ccm", min_length=1, max_length=120)
    """How signed checkpoints name this ledger (e.g. the operator's ANS registration)."""
    trust_anchors: Path | None = None
    """PEM bundle of trusted roots for audits and pack verification (ICP-Brasil roots in
    production); default: the development CA."""

    broker_url: str | None = None
    """Dramatiq broker: unset or ``memory://`` runs the worker in the API process;
    ``redis://host:6379/0`` or ``amqp://...`` for separate ``ccm worker`` processes."""
    worker_threads: int = Field(default=2, ge=1, le=64)
    relay_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    """How often the outbox relay looks for due jobs."""
    rn593_profile: Path = Path(__file__).parent / "rn593" / "samples" / "operator-profile.json"
    """The operator's RN 593 profile (JSON): the operator on the notice, PIX key, the
    escalation ladder, quiet hours, frequency caps and clock policy. The default is the
    fictitious demo operator: set your own before importing real cases."""
    rn593_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    """How often the worker advances the open RN 593 cases' ladders."""
    sandbox_delivery_delay_seconds: float = Field(default=2.0, ge=0, le=3600)
    """Sandbox channels: how long after sending the simulated delivery callback comes."""
    sandbox_proof_delay_seconds: float = Field(default=3.0, ge=0, le=86400)
    """Sandbox channels: how long after delivery the simulated legal proof comes."""
    imap_url: SecretStr | None = None
    """The bounce and receipt mailbox ``ccm inbound imap`` reads:
    ``imaps://user:password@host/INBOX``."""
    smtp_url: SecretStr | None = None
    """E-mail through SMTP instead of the sandbox: ``smtp://user:password@host:587``
    (STARTTLS), ``smtps://host:465``, ``smtp://host:25?security=none`` (loopback only)."""
    email_envelope_from: str | None = None
    """The SMTP envelope sender: where bounces return (required with ``smtp_url``)."""
    email_transports: list[Literal["smtp", "ses"]] = []
    """E-mail transports in failover order, e.g. ``["smtp", "ses"]``; empty: SMTP when
    ``smtp_url`` is set, else the sandbox."""
    ses_region: str = "sa-east-1"
    ses_endpoint_url: AnyHttpUrl | None = None
    """An SES-compatible endpoint instead of AWS (a local test server)."""
    ses_configuration_set: str | None = None
    ses_sns_topic_arns: list[str] = []
    """SNS topics whose SES events ``/v1/webhooks/ses/sns`` accepts; empty: it is off."""
    sns_certificate_url_pattern: str = (
        r"https://sns\.[a-z]{2}(-gov)?-[a-z]+-[0-9]\.amazonaws\.com(\.cn)?/[A-Za-z0-9_./?=&%:-]*"
    )
    """Where SNS signing certificates and subscription confirmations may come from (the
    whole URL must match; certificates must also be ``/SimpleNotificationService-*.pem``)."""
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    """With the account SID: SMS and WhatsApp through Twilio instead of the sandbox."""
    twilio_sms_from: str | None = None
    """Sender number for SMS (``+55...``); unset keeps SMS on the sandbox."""
    twilio_whatsapp_from: str | None = None
    """Sender number of the WhatsApp Business profile; unset keeps WhatsApp on the sandbox."""
    twilio_whatsapp_content_sids: dict[str, str] = {}
    """Template id -> Content SID of its WhatsApp template approved by Meta, e.g.
    ``{"delinquency_notice": "HX..."}``: business-initiated messages need one."""
    twilio_api_base_url: AnyHttpUrl | None = None
    """A Twilio-compatible endpoint instead of api.twilio.com (a regional proxy, a test peer)."""
    twilio_voice_from: str | None = None
    """Caller id of IVR calls (a Twilio voice number, ``+55...``); unset keeps IVR on the
    sandbox. Twilio must reach ``CCM_PUBLIC_BASE_URL`` for the call's TwiML."""
    twilio_voices: dict[str, str] = {"pt-BR": "Polly.Camila", "pt-PT": "Polly.Ines"}
    """Locale -> Twilio ``<Say>`` voice of the IVR."""
    ivr_agent_number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$")
    """Where IVR option 3 ("falar com um atendente") transfers the call; default: the
    operator's phone in the notice's data."""
    correios_label_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    """Service prefix of the contracted tracking labels (``RB``, ``JH``...): registered
    letters go to the print queue (``ccm mail export``) instead of the sandbox."""
    correios_label_first: int = Field(default=1, ge=0, le=99_999_999)
    correios_label_last: int = Field(default=99_999_999, ge=0, le=99_999_999)
    """The contracted serial range of the labels (8 digits; the check digit is computed)."""
    correios_ar_service: str = "001"
    """Additional-service code of the AR, written in the print manifest."""
    reply_confirm_keywords: list[str] = ["CIENTE", "SIM", "OK"]
    """SMS/WhatsApp replies that confirm awareness: the legal proof of rule R15."""
    reply_dispute_keywords: list[str] = ["QUESTIONAR"]
    """SMS/WhatsApp replies that dispute the debt."""

    protocol_layout: str = DEFAULT_LAYOUT
    """Layout of ANS protocol numbers (rule R25; unverified, keep configurable)."""
    protocol_pattern: str = DEFAULT_PATTERN
    """Pattern protocol numbers must match; empty turns validation off."""

    @model_validator(mode="after")
    def _check_consistency(self) -> "Settings":
        self._check_signing_policy()
        self._check_protocol_format()
        if self.artifact_store and self.artifact_store.startswith("s3://"):
            bucket = self.artifact_store.removeprefix("s3://").partition("/")[0]
            if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
                raise ConfigurationError(
                    "CCM_ARTIFACT_STORE: s3:// must be followed by a valid bucket name"
                )
        if self.tsa_username and self.tsa_url is not None and self.tsa_url.scheme != "https":
            raise ConfigurationError("CCM_TSA_URL must use https when CCM_TSA_USERNAME is set")
        if self.signing_policy_oid and not self.signing_policy_hash:
            raise ConfigurationError(
                "CCM_SIGNING_POLICY_HASH is required with CCM_SIGNING_POLICY_OID "
                "(the hash stated inside the policy document, rule R29)"
            )
        if self.signing_pkcs12 and self.signing_pkcs12_password is None:
            raise ConfigurationError(
                "CCM_SIGNING_PKCS12_PASSWORD is required with CCM_SIGNING_PKCS12"
            )
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("CCM_SIGNING_PKCS12", self.signing_pkcs12),
                    ("CCM_TSA_URL", self.tsa_url),
                )
                if value is None
            ]
            if missing:
                raise ConfigurationError(
                    "production refuses the development PKI and timestamp authority; set "
                    + ", ".join(missing)
                )
        return self

    def _check_signing_policy(self) -> None:
        if self.signing_policy_oid is not None and not re.fullmatch(
            r"[0-2](\.(0|[1-9][0-9]*))+", self.signing_policy_oid, re.ASCII
        ):
            raise ConfigurationError("CCM_SIGNING_POLICY_OID must be a dotted OID")
        if self.signing_policy_hash is not None:
            size = {"sha256": 32, "sha512": 64}[self.signing_policy_hash_algorithm]
            if not re.fullmatch(rf"[0-9a-fA-F]{{{size * 2}}}", self.signing_policy_hash):
                raise ConfigurationError(
                    f"CCM_SIGNING_POLICY_HASH must be {size * 2} hex digits "
                    f"({self.signing_policy_hash_algorithm})"
                )

    def _check_protocol_format(self) -> None:
        try:
            re.compile(self.protocol_pattern)
            self.protocol_format.format(ans_registration="000000", day=date(2000, 1, 1), sequence=1)
        except InvalidIdentifier as err:
            raise ConfigurationError(
                f"CCM_PROTOCOL_PATTERN refuses what CCM_PROTOCOL_LAYOUT produces: {err}"
            ) from err
        except (re.error, KeyError, IndexError, ValueError) as err:
            raise ConfigurationError(f"invalid CCM_PROTOCOL_LAYOUT or _PATTERN: {err!r}") from err

    @property
    def protocol_format(self) -> ProtocolFormat:
        """The configured protocol-number format (validation off when the pattern is empty)."""
        return ProtocolFormat(layout=self.protocol_layout, pattern=self.protocol_pattern or None)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under :attr:`home`."""
        return self.database_url or f"sqlite:///{(self.home / 'ccm.db').resolve()}"

    @property
    def resolved_brands_dir(self) -> Path:
        """Where brand folders live."""
        return self.brands_dir or self.templates_dir / "_brands"

    @property
    def template_versions_dir(self) -> Path:
        """Where template versions approved through the API are written, once each."""
        return self.home / "template-versions"

    @property
    def outbox_dir(self) -> Path:
        """Where sandbox channels write what they would have sent."""
        return self.home / "outbox"

    @property
    def pki_dir(self) -> Path:
        """Development CA, signer and timestamp-authority material."""
        return self.home / "pki"
