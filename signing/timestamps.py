"""RFC 3161 timestamping: the local development authority and the HTTP client factory.

The embedded default stamps documents in-process with :class:`LocalTimestampAuthority`,
whose certificate comes from the development PKI. With ``CCM_TSA_URL`` set, pyHanko's
``HTTPTimeStamper`` talks to a real authority (an ICP-Brasil ACT in production).
:class:`TimestampServer` serves the local authority over HTTP, which is how tests drive
the real HTTP client.
"""

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from asn1crypto import cms, core, keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing.errors import TimestampError
from signing.identity import SigningIdentity

__all__ = [
    "DEVELOPMENT_TSA_POLICY",
    "LocalTimestampAuthority",
    "TimestampServer",
    "http_timestamper",
]

# A UUID-derived OID (ITU-T X.667 arc 2.25) naming the development TSA policy: it
# is deliberately not an ICP-Brasil ACT policy.
DEVELOPMENT_TSA_POLICY = "2.25.216402117129018468017427135591329405923"


def _attribute(name: str, value: Any) -> cms.CMSAttribute:
    """pyHanko's ``simple_cms_attribute``, typed."""
    return simple_cms_attribute(name, value)  # type: ignore[no-untyped-call]


def _asn1_cert(identity_cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(identity_cert.public_bytes(serialization.Encoding.DER))


class LocalTimestampAuthority(DummyTimeStamper):
    """An in-process RFC 3161 authority that keeps its parsed key.

    pyHanko's ``DummyTimeStamper`` assembles correct tokens but re-parses its key on
    every request, identifies its certificate by SHA-1 and uses a testing policy OID.
    This keeps the key object, uses ESSCertIDv2 and stamps :data:`DEVELOPMENT_TSA_POLICY`.
    """

    def __init__(self, identity: SigningIdentity, *, policy: str = DEVELOPMENT_TSA_POLICY) -> None:
        if not isinstance(identity.key, rsa.RSAPrivateKey):
            raise TimestampError("the local timestamp authority needs an RSA key")
        key_der = identity.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            tsa_cert=_asn1_cert(identity.certificate),
            tsa_key=keys.PrivateKeyInfo.load(key_der),
            certs_to_embed=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [_asn1_cert(c) for c in identity.chain]
            ),
        )
        self._key = identity.key
        self._policy = policy
        # RFC 5816: identify the TSA certificate by its SHA-256 (ESSCertIDv2). The value is
        # the same for every token. asn1crypto re-encodes values built from Python objects
        # on every dump (~7 ms here), so keep a parsed copy, which it serialises as is.
        built = _attribute("signing_certificate_v2", as_signing_certificate_v2(self.tsa_cert))
        self._certificate_id = cms.CMSAttribute.load(built.dump())

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, dt: datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        info = super()._build_tst_info(message_imprint, dt, req)
        info["policy"] = tsp.ObjectIdentifier(self._policy)
        return info

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                _attribute("content_type", "tst_info"),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                self._certificate_id,
                _attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(),
            padding.PKCS1v15(),
            get_pyca_cryptography_hash(md_algorithm.upper()),
        )
        return signature, signed_attrs


def http_timestamper(
    url: str, *, username: str | None = None, password: str | None = None, timeout: float = 10.0
) -> TimeStamper:
    """A pyHanko HTTP client for a remote RFC 3161 authority."""
    auth = (username, password or "") if username else None
    return HTTPTimeStamper(url, timeout=timeout, auth=auth)


class TimestampServer:
    """Serves a timestamp authority over HTTP on loopback (``POST /tsa``).

    Used by tests to exercise pyHanko's real HTTP client, and by developers who want
    a timestamp URL for tools outside ccm.
    """

    def __init__(self, authority: DummyTimeStamper, *, host: str = "127.0.0.1", port: int = 0):
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:
                if self.path != "/tsa" or (
                    self.headers.get("Content-Type") != "application/timestamp-query"
                ):
                    self.send_error(400, "expected application/timestamp-query at /tsa")
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    request = tsp.TimeStampReq.load(body)
                    reply = authority.request_tsa_response(request).dump()
                except ValueError:
                    self.send_error(400, "malformed timestamp request")
                    return
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The authority's URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def start(self) -> "TimestampServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
