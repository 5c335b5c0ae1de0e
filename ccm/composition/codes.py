"""QR codes and boleto barcodes as PNG data URIs, drawn by zxing-cpp.

One pixel per module: the page scales the image with ``image-rendering: pixelated``,
so the PDF holds a tiny lossless image that prints sharp at any size. zxing-cpp
encodes a PIX QR in about 1 ms where pure-Python encoders spend 10 ms choosing a mask
(shared/reference/perf.md section 1).
"""

import base64
import io

import zxingcpp
from PIL import Image

__all__ = ["itf_data_uri", "qr_data_uri"]


def _png_data_uri(barcode: object, *, quiet_zone: bool) -> str:
    view = memoryview(barcode.to_image(scale=1, add_quiet_zones=quiet_zone))  # type: ignore[attr-defined]
    if view.shape is None:  # pragma: no cover - zxing-cpp images are always 2-D
        raise ValueError("zxing-cpp returned an image without a shape")
    height, width = view.shape[:2]
    image = Image.frombytes("L", (width, height), bytes(view))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def qr_data_uri(payload: str, *, ec_level: str = "M") -> str:
    """A QR code of ``payload`` (PIX BR Codes use level M)."""
    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    return _png_data_uri(barcode, quiet_zone=True)


def itf_data_uri(digits: str) -> str:
    """An Interleaved 2 of 5 barcode, the symbology of the 44-digit boleto barcode."""
    barcode = zxingcpp.create_barcode(digits, zxingcpp.BarcodeFormat.ITF)
    return _png_data_uri(barcode, quiet_zone=False)
