"""The benchmark's two pipelines still run and still make the same, valid document."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from bench import render as bench
from ccm.composition import Composer, DocumentRendering


def test_both_pipelines_sign_a_one_page_notice(home: Path, tmp_path: Path) -> None:
    for mode in ("ccm", "naive"):
        result = bench.run(mode, 1, seed=7, home=str(home))
        assert result["docs"] == 1 and result["seconds"] > 0
        assert result["peak_rss_mib"] > 50


def test_recipients_are_distinct_and_valid(unsigned_composer: Composer) -> None:
    first, second = bench.recipient(0, 1), bench.recipient(1, 1)
    assert first["payer"]["cpf"] != second["payer"]["cpf"]
    for data in (first, second):
        composition = unsigned_composer.prepare("delinquency_notice", data)
        rendering = unsigned_composer.render(composition, "document")  # the string form works too
        assert isinstance(rendering, DocumentRendering)
        assert len(PdfReader(io.BytesIO(rendering.pdf)).pages) == 1


def test_ledger_benchmark_runs_and_its_proofs_stay_logarithmic(home: Path) -> None:
    from bench import ledger as ledger_bench

    result = ledger_bench.run(600, home=str(home), single=20, proofs=20)
    assert result["audit_ok"] is True and result["tree_size"] == 620
    assert result["proof_hashes_max"] <= result["proof_hashes_bound"] == 10
    assert result["append_batched_per_s"] > 0 and result["ratio_naive_vs_cached_proof"] > 0


@pytest.mark.xdist_group("servers")
def test_api_benchmark_measures_both_endpoints_and_end_to_end(home: Path) -> None:
    from bench import api as api_bench

    result = api_bench.run(requests=16, notices=2, clients=2, home=str(home))
    assert result["ccm_errors"] == 0
    assert result["ccm_per_s"] > 0 and result["bare_per_s"] > 0
    assert result["ccm_p99_ms"] >= result["ccm_p50_ms"] > 0
    assert result["e2e_notices_per_min"] > 0


def test_cases_benchmark_reads_stores_and_ticks(home: Path) -> None:
    from bench import cases as cases_bench

    result = cases_bench.run(4, home=str(home))
    assert result["rows"] == 8 and result["read_rows_per_s"] > 0
    assert result["import_cases_per_s"] > 0 and result["tick_ms_per_case"] > 0
    assert result["ratio_tick_vs_pure_clock"] > 1  # the database costs more than arithmetic
