"""What the platform watches, as data: the monitoring levels, the apps' metrics contract, the recording rules
and the alert rules with their thresholds (pure; the Azure rule groups, the Prometheus rule files the tests
check with promtool and the dashboards all read them from here).

The apps' metrics follow the OpenTelemetry semantic conventions as the OTel Prometheus exporter names them
(``http.server.request.duration`` in seconds -> ``http_server_request_duration_seconds``; attribute dots become
underscores), served on the container port ``metrics`` (the exporter's default 9464) at ``/metrics``. The
scrape adds ``namespace``, ``app``, ``color`` and ``pod`` from the pod (``components/k8s/scrape.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .names import Color

Level = Literal["basic", "full", "full-alerts"]
LEVELS: tuple[Level, ...] = ("basic", "full", "full-alerts")
"""basic: Container Insights, diagnostic settings, tracing; full: plus managed Prometheus, scraping, Grafana
and dashboards; full-alerts: plus alert rules, metric alerts and notifications."""


def has_prometheus(level: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index("full")


def has_alerts(level: str) -> bool:
    return level == "full-alerts"


Severity = Literal["critical", "error", "warning", "informational"]
SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "informational")
AZURE_SEVERITY: dict[str, int] = {name: index for index, name in enumerate(SEVERITIES)}
"""Azure Monitor alert severities: 0 Critical, 1 Error, 2 Warning, 3 Informational."""

Receiver = Literal["email", "slack", "pagerduty"]
RECEIVERS: tuple[Receiver, ...] = ("email", "slack", "pagerduty")

METRICS_PORT_NAME = "metrics"
METRICS_PATH = "/metrics"
METRICS_SERVICE_PORT = 9464
"""The per-color Services' metrics port (targets the container port named metrics)."""
DEFAULT_METRICS_PORT = 9464
"""The OpenTelemetry Prometheus exporter's default port (``OTEL_EXPORTER_PROMETHEUS_PORT``)."""

# Where each metric comes from: every rule names the scrape target or add-on behind its metrics.
APP_SCRAPE = "the apps' ServiceMonitors (OpenTelemetry Prometheus exporter, port metrics)"
KUBE_STATE_METRICS = "kube-state-metrics (AKS managed Prometheus add-on, default target)"
# certmanager_certificate_expiration_timestamp_seconds{name, namespace}: cert-manager pkg/metrics/certificates.go.
CERT_MANAGER_SCRAPE = "cert-manager controller metrics (ServiceMonitor cert-manager, port 9402)"
# externalsecret_status_condition{name, namespace, condition, status}: external-secrets
# pkg/controllers/externalsecret/esmetrics/esmetrics.go (subsystem externalsecret, key status_condition).
EXTERNAL_SECRETS_SCRAPE = "External Secrets controller metrics (ServiceMonitor external-secrets, port 8080)"
RECORDING_RULES = "this platform's recording rules (from the apps' ServiceMonitors)"

METRIC_SOURCES: dict[str, str] = {
    "http_server_request_duration_seconds_count": APP_SCRAPE,
    "http_server_request_duration_seconds_bucket": APP_SCRAPE,
    "db_client_operation_duration_seconds_count": APP_SCRAPE,
    "kube_deployment_spec_replicas": KUBE_STATE_METRICS,
    "kube_deployment_status_replicas_available": KUBE_STATE_METRICS,
    "kube_pod_container_status_restarts_total": KUBE_STATE_METRICS,
    "certmanager_certificate_expiration_timestamp_seconds": CERT_MANAGER_SCRAPE,
    "externalsecret_status_condition": EXTERNAL_SECRETS_SCRAPE,
    "broxiva:http_requests:rate5m": RECORDING_RULES,
    "broxiva:http_errors:rate5m": RECORDING_RULES,
    "broxiva:http_error_ratio:rate5m": RECORDING_RULES,
    "broxiva:http_request_duration_seconds:p95_5m": RECORDING_RULES,
}
"""Every series a rule reads, and what produces it."""

# Node.js socket errors that mean "could not connect" (libuv error names, as the pg and ioredis clients report
# them in error.type), plus the clients' own connection-timeout errors.
CONNECTION_ERRORS = "ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|ConnectionTimeoutError"

ERROR_RATIO_THRESHOLD = 0.05
"""Seed 002: high error rate, > 5 %."""
LATENCY_P95_THRESHOLD_SECONDS = 1.0
"""Seed 002: high response time, > 1 s at p95."""
CERTIFICATE_DAYS_THRESHOLD = 30
"""Seed 002: certificate expiring in < 30 days."""
RESTARTS_THRESHOLD = 3
"""Seeds 000/001 watch pod restarts during deployments: more than this many in 15 minutes."""

BY_COLOR = "namespace, app, color"


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class AlertRule:
    """One alert: its name, PromQL expression (threshold included), how long it must hold, its default
    severity and the scrape target or add-on its metrics come from."""

    name: str
    expr: str
    for_: str | None
    severity: Severity
    summary: str
    source: str
    threshold: float


def _selector(namespace: str, extra: str = "") -> str:
    return "{" + f'namespace="{namespace}"' + (f", {extra}" if extra else "") + "}"


def recording_rules(namespace: str, weights: Mapping[str, Mapping[Color, int]]) -> tuple[RecordingRule, ...]:
    """Per app and color: request and 5xx rates, the error ratio (0 when there are no errors), p50/p95/p99;
    and ``broxiva:route_weight``, each routed app's configured share per color (the blue/green dashboard
    shows what the routes weigh without reading the cluster). ``weights``: app -> color -> percent."""
    requests = f"http_server_request_duration_seconds_count{_selector(namespace)}"
    errors = "http_server_request_duration_seconds_count" + _selector(namespace, 'http_response_status_code=~"5.."')
    buckets = f"http_server_request_duration_seconds_bucket{_selector(namespace)}"
    rules = [
        RecordingRule("broxiva:http_requests:rate5m", f"sum by ({BY_COLOR}) (rate({requests}[5m]))", {}),
        RecordingRule("broxiva:http_errors:rate5m", f"sum by ({BY_COLOR}) (rate({errors}[5m]))", {}),
        RecordingRule(
            "broxiva:http_error_ratio:rate5m",
            "(broxiva:http_errors:rate5m or broxiva:http_requests:rate5m * 0) / broxiva:http_requests:rate5m",
            {},
        ),
        *(
            RecordingRule(
                f"broxiva:http_request_duration_seconds:p{quantile}_5m",
                f"histogram_quantile(0.{quantile}, sum by ({BY_COLOR}, le) (rate({buckets}[5m])))",
                {},
            )
            for quantile in ("50", "95", "99")
        ),
    ]
    for app, by_color in sorted(weights.items()):
        for color, weight in sorted(by_color.items()):
            rules.append(
                RecordingRule(
                    "broxiva:route_weight", f"vector({weight})", {"namespace": namespace, "app": app, "color": color}
                )
            )
    return tuple(rules)


def short_name(app: str) -> str:
    """``broxiva-api`` -> ``Api``: the prefix of the app's own alerts."""
    return "".join(part.capitalize() for part in app.removeprefix("broxiva-").split("-"))


def alert_rules(namespace: str, routed_apps: Sequence[str]) -> tuple[AlertRule, ...]:
    """Seed 002's critical alerts (API and web pod down, database and Redis connection failures, error rate
    > 5 %, p95 > 1 s, External Secrets sync failed, certificate expiring in < 30 days) and the seeds' pod
    restarts. Rate and latency alerts are per app and color: a canary's errors fire on their own."""

    def deployments(app: str) -> str:
        return _selector(namespace, 'deployment=~"' + app + '-(blue|green)"')

    rules = [
        AlertRule(
            name=f"{short_name(app)}PodDown",
            expr=(
                f"kube_deployment_spec_replicas{deployments(app)}"
                f" - kube_deployment_status_replicas_available{deployments(app)} > 0"
            ),
            for_="PT5M",
            severity="critical",
            summary=f"{app}: a pod of {{{{ $labels.deployment }}}} has been unavailable for 5 minutes",
            source=KUBE_STATE_METRICS,
            threshold=0,
        )
        for app in sorted(routed_apps)
    ]
    for system, title in (("postgresql", "Database"), ("redis", "Redis")):
        failures = _selector(namespace, f'db_system_name="{system}", error_type=~"{CONNECTION_ERRORS}"')
        rules.append(
            AlertRule(
                name=f"{title}ConnectionFailures",
                expr=f"sum by ({BY_COLOR}) (rate(db_client_operation_duration_seconds_count{failures}[5m])) > 0",
                for_="PT5M",
                severity="critical",
                summary=f"{{{{ $labels.app }}}} ({{{{ $labels.color }}}}) cannot connect to {title.lower()}",
                source=APP_SCRAPE,
                threshold=0,
            )
        )
    rules += [
        AlertRule(
            name="HighErrorRate",
            expr=f"broxiva:http_error_ratio:rate5m{_selector(namespace)} > {ERROR_RATIO_THRESHOLD}",
            for_="PT5M",
            severity="critical",
            summary="{{ $labels.app }} ({{ $labels.color }}) answers more than 5% of requests with 5xx",
            source=RECORDING_RULES,
            threshold=ERROR_RATIO_THRESHOLD,
        ),
        AlertRule(
            name="HighLatencyP95",
            expr=f"broxiva:http_request_duration_seconds:p95_5m{_selector(namespace)} > {LATENCY_P95_THRESHOLD_SECONDS:g}",
            for_="PT5M",
            severity="warning",
            summary="{{ $labels.app }} ({{ $labels.color }}) p95 latency is above 1s",
            source=RECORDING_RULES,
            threshold=LATENCY_P95_THRESHOLD_SECONDS,
        ),
        AlertRule(
            name="ExternalSecretSyncFailed",
            expr="externalsecret_status_condition"
            + _selector(namespace, 'condition="Ready", status="False"')
            + " == 1",
            for_="PT10M",
            severity="critical",
            summary="ExternalSecret {{ $labels.name }} has not synced from Key Vault for 10 minutes",
            source=EXTERNAL_SECRETS_SCRAPE,
            threshold=1,
        ),
        AlertRule(
            name="CertificateExpiringSoon",
            expr=(
                f"certmanager_certificate_expiration_timestamp_seconds{_selector(namespace)} - time()"
                f" < {CERTIFICATE_DAYS_THRESHOLD} * 86400"
            ),
            for_="PT1H",
            severity="warning",
            summary="Certificate {{ $labels.name }} expires in less than 30 days",
            source=CERT_MANAGER_SCRAPE,
            threshold=CERTIFICATE_DAYS_THRESHOLD * 86400,
        ),
        AlertRule(
            name="PodRestarting",
            expr=(
                f"increase(kube_pod_container_status_restarts_total{_selector(namespace)}[15m]) > {RESTARTS_THRESHOLD}"
            ),
            for_=None,
            severity="warning",
            summary="{{ $labels.pod }} ({{ $labels.container }}) restarted more than 3 times in 15 minutes",
            source=KUBE_STATE_METRICS,
            threshold=RESTARTS_THRESHOLD,
        ),
    ]
    return tuple(rules)


def alert_names(routed_apps: Sequence[str]) -> tuple[str, ...]:
    """The names of every alert (Prometheus rules and metric alerts), for ``observability.alerts.severities``."""
    return tuple(rule.name for rule in alert_rules("x", routed_apps)) + tuple(m.name for m in METRIC_ALERTS)


_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*[{\[])")


def series_read(expr: str) -> set[str]:
    """The metric names an expression selects (names directly followed by a selector or a range)."""
    return set(_IDENT.findall(expr))


def duration_seconds(iso: str) -> int:
    """``PT5M`` -> 300: Azure's ISO 8601 durations, as the rule files need them."""
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", iso)
    if not match:
        raise ValueError(f"not an ISO 8601 duration of hours, minutes and seconds: {iso}")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


POSTGRES_METRICS = "Microsoft.DBforPostgreSQL/flexibleServers"
REDIS_METRICS = "Microsoft.Cache/redisEnterprise"


@dataclass(frozen=True)
class MetricAlertRule:
    """An Azure Monitor metric alert on a data service's platform metric (Azure Monitor supported metrics:
    PostgreSQL flexible server and Azure Managed Redis; Redis metrics have a 5-minute grain, so its windows
    are at least 15 minutes)."""

    name: str
    target: Literal["postgres", "redis"]
    metric_namespace: str
    metric: str
    aggregation: Literal["Average", "Maximum", "Total"]
    threshold: float
    window: str
    frequency: str
    severity: Severity
    summary: str


METRIC_ALERTS: tuple[MetricAlertRule, ...] = (
    # Seed 002's database targets: CPU < 70 %, memory < 80 %, disk < 80 %, connections below 80 % of 200.
    MetricAlertRule(
        "PostgresCpuHigh",
        "postgres",
        POSTGRES_METRICS,
        "cpu_percent",
        "Average",
        70,
        "PT15M",
        "PT5M",
        "warning",
        "PostgreSQL CPU above 70% for 15 minutes",
    ),
    MetricAlertRule(
        "PostgresMemoryHigh",
        "postgres",
        POSTGRES_METRICS,
        "memory_percent",
        "Average",
        80,
        "PT15M",
        "PT5M",
        "warning",
        "PostgreSQL memory above 80% for 15 minutes",
    ),
    MetricAlertRule(
        "PostgresStorageHigh",
        "postgres",
        POSTGRES_METRICS,
        "storage_percent",
        "Average",
        80,
        "PT15M",
        "PT5M",
        "error",
        "PostgreSQL storage above 80%",
    ),
    MetricAlertRule(
        "PostgresConnectionsHigh",
        "postgres",
        POSTGRES_METRICS,
        "active_connections",
        "Maximum",
        160,
        "PT5M",
        "PT1M",
        "warning",
        "PostgreSQL active connections above 160 (80% of 200)",
    ),
    MetricAlertRule(
        "PostgresConnectionsFailed",
        "postgres",
        POSTGRES_METRICS,
        "connections_failed",
        "Total",
        10,
        "PT5M",
        "PT1M",
        "error",
        "More than 10 failed PostgreSQL connections in 5 minutes",
    ),
    # Seed 002's cache targets: memory < 90 %, minimal evictions; CPU as the load measure (Microsoft advises CPU
    # over serverLoad on Azure Managed Redis).
    MetricAlertRule(
        "RedisMemoryHigh",
        "redis",
        REDIS_METRICS,
        "usedmemorypercentage",
        "Average",
        90,
        "PT15M",
        "PT5M",
        "error",
        "Redis memory above 90% for 15 minutes",
    ),
    MetricAlertRule(
        "RedisCpuHigh",
        "redis",
        REDIS_METRICS,
        "percentProcessorTime",
        "Average",
        70,
        "PT15M",
        "PT5M",
        "warning",
        "Redis CPU above 70% for 15 minutes",
    ),
    MetricAlertRule(
        "RedisEvictions",
        "redis",
        REDIS_METRICS,
        "evictedkeys",
        "Total",
        100,
        "PT15M",
        "PT5M",
        "warning",
        "Redis evicted more than 100 keys in 15 minutes",
    ),
)
