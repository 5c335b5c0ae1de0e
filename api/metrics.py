"""Prometheus metrics of the API process (one registry per process)."""

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["COMMUNICATIONS", "JOBS", "REGISTRY", "REQUESTS"]

REGISTRY = CollectorRegistry()
COMMUNICATIONS = Gauge(
    "ccm_communications", "Communications by status", ["status"], registry=REGISTRY
)
JOBS = Gauge("ccm_jobs", "Outbox jobs by state", ["state"], registry=REGISTRY)
REQUESTS = Counter(
    "ccm_http_requests_total",
    "HTTP requests by route and status",
    ["route", "status"],
    registry=REGISTRY,
)
