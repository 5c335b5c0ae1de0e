"""Signed one-page delinquency notices per second: ccm's warm pipeline against a naive one.

Both pipelines produce the same document for the same recipient: ccm composes it
(validation, totals, PIX payload and QR, Jinja2), then
- ccm:   a long-lived renderer (parsed CSS, font configuration, image cache) and a
         signer that keeps its parsed key, with a fixed signature reservation;
- naive: a fresh ``HTML(...).write_pdf()`` with freshly parsed stylesheets and fonts,
         and pyHanko's stock ``SimpleSigner`` loaded from the PKCS#12 for each document,
         with a stock timestamper (both sign PAdES B-T with the same keys).

Every recipient is distinct. Each run is a fresh process (so its peak RSS is its own);
single-process runs alternate the two pipelines, and the one-per-core phase runs one
process per core at once. Figures are medians over the rounds.

    .venv/bin/python bench/render.py                 # about 5 minutes on 2 cores
    .venv/bin/python bench/render.py --docs 5 --rounds 1   # smoke run
"""

import argparse
import copy
import io
import json
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "templates" / "delinquency_notice" / "pt-BR" / "sample.json"
FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elaine",
    "Fábio",
    "Gisele",
    "Hugo",
    "Iara",
    "João",
]
SURNAMES = ["Almeida", "Barbosa", "Cardoso", "Duarte", "Esteves", "Figueiredo", "Gonçalves", "Lima"]


def _cpf(rng: random.Random) -> str:
    from stdnum.br import cpf

    while True:
        base = "".join(str(rng.randint(0, 9)) for _ in range(9))
        number = base + cpf._calc_check_digits(base)
        if len(set(number)) > 1:
            return number


def recipient(index: int, seed: int) -> dict[str, Any]:
    """A distinct, valid delinquency notice request."""
    rng = random.Random(seed * 100_003 + index)
    data = copy.deepcopy(json.loads(SAMPLE.read_text(encoding="utf-8")))
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
    cpf = _cpf(rng)
    data["payer"].update(name=name, cpf=cpf)
    data["beneficiaries"] = [
        {"name": name, "cpf": cpf, "relationship": "titular"},
        {
            "name": f"{rng.choice(FIRST_NAMES)} {name.split()[-1]}",
            "cpf": _cpf(rng),
            "relationship": "dependente",
        },
    ]
    for installment in data["installments"]:
        amount = Decimal(rng.randint(30_000, 250_000)) / 100
        installment["amount"] = f"{amount:.2f}"
        installment["updated_amount"] = f"{amount * Decimal('1.035'):.2f}"
    del data["payment"]["boleto_line"]  # its amount is fixed; the PIX carries each total
    return data


def _naive_key_files(settings: Any) -> tuple[Path, bytes, Path]:
    """Where the signer and TSA PKCS#12 files are: looked up once, not per document."""
    from signing import ensure_development_pki

    pki = ensure_development_pki(settings.pki_dir)
    return pki.signer_pkcs12, pki.signer_password.read_bytes().strip(), pki.tsa_pkcs12


def _naive_document(composer: Any, composition: Any, key_files: tuple[Path, bytes, Path]) -> bytes:
    """What a straightforward implementation does for each document."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = composer.document_html(composition)
    fonts = FontConfiguration()
    base, *local = composer.document_stylesheets(composition)
    sheets = [
        CSS(filename=str(base), font_config=fonts),
        CSS(string=composition.brand.css, font_config=fonts),
        *(CSS(filename=str(p), font_config=fonts) for p in local),
    ]
    pdf = HTML(string=html, base_url=composer.library.root.as_uri() + "/").write_pdf(
        stylesheets=sheets, font_config=fonts, pdf_variant="pdf/a-3b"
    )
    signer_path, password, tsa_path = key_files
    signer = signers.SimpleSigner.load_pkcs12(str(signer_path), passphrase=password)
    tsa_key, tsa_cert, tsa_chain = pkcs12.load_key_and_certificates(tsa_path.read_bytes(), password)
    der = serialization.Encoding.DER
    timestamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),  # type: ignore[union-attr]
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der,
                serialization.PrivateFormat.PKCS8,  # type: ignore[union-attr]
                serialization.NoEncryption(),
            )
        ),
        certs_to_embed=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in tsa_chain],
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Assinatura", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        metadata,
        signer=signer,
        timestamper=timestamper,
        output=out,
    )
    return out.getvalue()


def run(mode: str, docs: int, seed: int, home: str) -> dict[str, Any]:
    """One fresh process: warm up, then time ``docs`` distinct signed notices."""
    from ccm.bootstrap import build_composer
    from ccm.composition import Channel
    from ccm.config import Settings

    settings = Settings(home=Path(home))
    composer = build_composer(settings, sign=(mode == "ccm"))
    key_files = _naive_key_files(settings)

    def one(index: int) -> bytes:
        composition = composer.prepare("delinquency_notice", recipient(index, seed))
        if mode == "ccm":
            return composer.render(composition, Channel.DOCUMENT).pdf  # type: ignore[no-any-return,union-attr]
        return _naive_document(composer, composition, key_files)

    for i in range(2):
        one(-1 - i)
    started = time.perf_counter()
    cpu = time.process_time()
    sizes = [len(one(i)) for i in range(docs)]
    elapsed = time.perf_counter() - started
    return {
        "mode": mode,
        "docs": docs,
        "seconds": elapsed,
        "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mean_pdf_bytes": sum(sizes) / len(sizes),
    }


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), max_tasks_per_child=1)


def single_process(docs: int, rounds: int, home: str) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {"ccm": [], "naive": []}
    for r in range(rounds):
        for mode in ("ccm", "naive") if r % 2 == 0 else ("naive", "ccm"):
            with _pool(1) as pool:
                results[mode].append(pool.submit(run, mode, docs, 1000 + r, home).result())
    return results


def per_core(docs: int, rounds: int, cores: int, home: str) -> dict[str, list[float]]:
    throughput: dict[str, list[float]] = {"ccm": [], "naive": []}
    peaks: dict[str, list[float]] = {"ccm": [], "naive": []}
    for r in range(rounds):
        for mode in ("ccm", "naive") if r % 2 == 0 else ("naive", "ccm"):
            with _pool(cores) as pool:
                futures = [
                    pool.submit(run, mode, docs, 2000 + 10 * r + c, home) for c in range(cores)
                ]
                results = [f.result() for f in futures]
            throughput[mode].append(sum(x["docs"] / x["seconds"] for x in results))
            peaks[mode].append(max(x["peak_rss_mib"] for x in results))
    return {**throughput, **{f"{m}_peak_rss_mib": v for m, v in peaks.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=30, help="documents per process run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per phase")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--home", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()

    from ccm.config import Settings
    from signing import ensure_development_pki

    ensure_development_pki(Settings(home=Path(args.home)).pki_dir)  # before the workers race
    single = single_process(args.docs, args.rounds, args.home)
    rate = {
        m: statistics.median(x["docs"] / x["seconds"] for x in runs) for m, runs in single.items()
    }
    cpu = {
        m: statistics.median(x["cpu_seconds"] / x["docs"] * 1000 for x in runs)
        for m, runs in single.items()
    }
    peak = {m: max(x["peak_rss_mib"] for x in runs) for m, runs in single.items()}
    size = {m: statistics.median(x["mean_pdf_bytes"] for x in runs) for m, runs in single.items()}
    multi = per_core(args.docs, args.rounds, args.cores, args.home)
    multi_rate = {m: statistics.median(multi[m]) for m in ("ccm", "naive")}

    print(
        f"Signed 1-page delinquency notices (PAdES B-T), {args.docs} distinct recipients per "
        f"process run, {args.rounds} alternating rounds, {args.cores} cores, "
        f"Python {sys.version.split()[0]}"
    )
    print()
    print(
        "| pipeline | 1 process docs/s | CPU ms/doc | "
        f"{args.cores} processes docs/s | per core docs/s | peak RSS MiB | PDF KB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for mode in ("ccm", "naive"):
        print(
            f"| {mode} | {rate[mode]:.2f} | {cpu[mode]:.0f} | {multi_rate[mode]:.2f} | "
            f"{multi_rate[mode] / args.cores:.2f} | {peak[mode]:.0f} | {size[mode] / 1024:.0f} |"
        )
    print(
        f"| **ratio ccm / naive** | **{rate['ccm'] / rate['naive']:.2f}x** | "
        f"{cpu['naive'] / cpu['ccm']:.2f}x less | "
        f"**{multi_rate['ccm'] / multi_rate['naive']:.2f}x** | | | |"
    )
    print()
    print(
        f"Scaling over {args.cores} cores: ccm {multi_rate['ccm'] / rate['ccm']:.2f}x, "
        f"naive {multi_rate['naive'] / rate['naive']:.2f}x; "
        f"ccm at {multi_rate['ccm'] * 3600:,.0f} signed notices per hour on this machine."
    )
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    record = {"args": vars(args), "single": single, "per_core": multi}
    (results_dir / f"render-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(
        json.dumps(record, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
