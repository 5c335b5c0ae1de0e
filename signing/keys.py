"""A pyHanko signer over a key object that is parsed once and kept."""

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing.errors import SigningError
from signing.identity import SigningIdentity

__all__ = ["KeptKeySigner", "asn1_certificate"]


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as asn1crypto, which pyHanko speaks."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class KeptKeySigner(signers.Signer):
    """A pyHanko signer that signs with a ``cryptography`` key object it keeps."""

    def __init__(self, identity: SigningIdentity) -> None:
        certs = [asn1_certificate(c) for c in identity.chain]
        registry = SimpleCertificateStore.from_certs(certs)  # type: ignore[no-untyped-call]
        super().__init__(
            signing_cert=asn1_certificate(identity.certificate), cert_registry=registry
        )
        self._key = identity.key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, rsa.RSAPrivateKey):
            if mechanism.signature_algo != "rsassa_pkcs1v15":
                raise SigningError(f"unsupported RSA mechanism {mechanism.signature_algo}")
            return self._key.sign(data, padding.PKCS1v15(), hash_algorithm)
        return self._key.sign(data, ec.ECDSA(hash_algorithm))
