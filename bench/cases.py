"""Benchmark of RN 593 cases: reading the operator's file, storing it, the ladder's tick.

    .venv/bin/python -m bench.cases --cases 2000

Prints, for ``--cases`` contracts of two installments each in a fresh SQLite database:
rows read per second from CSV, cases stored per second, and the cost of one ladder tick
per watched case, against the pure clock on the same cases in the same run (the ratio
is what the database and the evidence reads add to each evaluation). The cases are
collective business contracts not paying directly, so the tick evaluates and pauses
every one (RN 593 does not cover them) and sends nothing: the steady cost of a case.
"""

import argparse
import csv
import io
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import publish
from ccm.rn593.clock import evaluate
from ccm.rn593.importing import read_cases

__all__ = ["main", "rows", "run"]

_COLUMNS = (
    "contract_id,contract_type,pays_operator_directly,plan_name,plan_ans_product_number,"
    "payer_name,payer_cpf,payer_role,competence,due_date,amount"
).split(",")


def _cpf(n: int) -> str:
    base = [int(d) for d in f"{n % 10**9:09d}"]
    for _ in range(2):
        total = sum(d * w for d, w in zip(base, range(len(base) + 1, 1, -1), strict=True))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    digits = "".join(map(str, base))
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def rows(cases: int, today: date) -> bytes:
    """A CSV of ``cases`` contracts, two unpaid installments each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_COLUMNS)
    for n in range(cases):
        for days in (45, 15):
            due = today - timedelta(days=days)
            writer.writerow([f"EMP-{n:06d}", "coletivo_empresarial", "nao", "Plano Empresa",
                             "478.912/17-3", f"Pessoa {n}", _cpf(100_000_000 + n), "titular",
                             f"{due:%Y-%m}", due.isoformat(), "512.40"])  # fmt: skip
    return out.getvalue().encode()


def run(cases: int, *, home: str) -> dict[str, Any]:
    """Every measurement; ``home`` holds the development PKI (the catalog signs)."""
    from ccm.bootstrap import build_catalog, build_database, build_ledger
    from ccm.config import Settings
    from ccm.persistence.artifacts import FileArtifactStore
    from ccm.rn593.ladder import load_profile
    from ccm.service.cases import import_cases
    from ccm.service.communications import SUPPORTED_CHANNELS
    from ccm.service.ladder import CaseLadder

    today = date.today()
    data = rows(cases, today)
    result: dict[str, Any] = {"cases": cases, "rows": 2 * cases}
    start = time.perf_counter()
    files = read_cases(data, filename="cases.csv")
    result["read_rows_per_s"] = 2 * cases / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        settings = Settings(home=Path(home), database_url=f"sqlite:///{folder / 'bench.db'}")
        engine = build_database(settings)
        ledger = build_ledger(settings, engine)
        profile = load_profile(settings.rn593_profile)
        start = time.perf_counter()
        import_cases(
            engine,
            ledger,
            FileArtifactStore(folder / "artifacts"),
            files,
            profile=profile,
            imported_by="bench",
            now=datetime.now(UTC),
        )
        result["import_cases_per_s"] = cases / (time.perf_counter() - start)
        ladder = CaseLadder(
            engine=engine,
            catalog=build_catalog(settings, engine),
            ledger=ledger,
            channels=SUPPORTED_CHANNELS,
        )
        start = time.perf_counter()
        watched = ladder.tick()
        tick = time.perf_counter() - start
        result["tick_s"] = tick
        result["tick_ms_per_case"] = tick * 1000 / watched
        start = time.perf_counter()
        for file in files:
            evaluate(file.case, today, profile.policy)
        pure = time.perf_counter() - start
        result["pure_clock_ms_per_case"] = pure * 1000 / cases
        engine.dispose()
    result["ratio_tick_vs_pure_clock"] = (
        result["tick_ms_per_case"] / result["pure_clock_ms_per_case"]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--home", default="var", help="CCM_HOME with the development PKI")
    args = parser.parse_args()
    result = run(args.cases, home=args.home)
    publish("cases", result, decimals=3)


if __name__ == "__main__":
    main()
