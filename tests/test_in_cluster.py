"""The in-cluster layer of every stack, read from the rendered plan.

App namespace baseline (Pod Security, RBAC, network policies, quota, settings), the three add-on Helm
releases, External Secrets, cert-manager and the Envoy Gateway edge. Expected values are the environment
matrix of the spec (environments.md) written out literally per stack; nothing here is computed by the code
under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import yaml

from components.config.validation import parse_cpu, parse_memory
from tests.conftest import PROJECT_DIR, STACKS
from tools.plan import mocks
from tools.plan.engine import Plan
from tools.plan.render import HELM_RELEASE, helm_releases, kubernetes_objects

# --------------------------------------------------------------------------- the environment matrix

MATRIX: dict[str, dict[str, Any]] = {
    "dev": {
        "environment": "development",
        "namespace": "broxiva-development",
        "resource_group": "broxiva-dev-rg",
        "web": "dev.broxiva.com",
        "api": "api-dev.broxiva.com",
        "admin": "admin-dev.broxiva.com",
        "www": None,
        "wildcard": "*.dev.broxiva.com",
        "pull_registry": "ghcr.io",
        "rate_limited": False,
    },
    "staging": {
        "environment": "staging",
        "namespace": "broxiva-staging",
        "resource_group": "broxiva-staging-rg",
        "web": "staging.broxiva.com",
        "api": "api-staging.broxiva.com",
        "admin": "admin-staging.broxiva.com",
        "www": None,
        "wildcard": "*.staging.broxiva.com",
        "pull_registry": "ghcr.io",
        "rate_limited": True,
    },
    "prod": {
        "environment": "production",
        "namespace": "broxiva-production",
        "resource_group": "broxiva-prod-rg",
        "web": "broxiva.com",
        "api": "api.broxiva.com",
        "admin": "admin.broxiva.com",
        "www": "www.broxiva.com",
        "wildcard": "*.broxiva.com",
        "pull_registry": None,
        "rate_limited": True,
    },
}


# ConfigMap broxiva-config, exactly. CORS_ORIGIN is compared as a set of origins.
def otel(sample_ratio: str) -> dict[str, str]:
    """The OpenTelemetry SDK settings every stack's ConfigMap carries; only the sampling ratio differs."""
    return {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": sample_ratio,
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_EXPORTER_PROMETHEUS_HOST": "0.0.0.0",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http,database",
    }


APP_SETTINGS: dict[str, dict[str, str]] = {
    "dev": {
        "NODE_ENV": "development",
        "APP_ENV": "development",
        "LOG_LEVEL": "debug",
        "ENABLE_DEBUG": "true",
        "API_DOMAIN": "api-dev.broxiva.com",
        "WEB_DOMAIN": "dev.broxiva.com",
        # The cache's own outputs: its host name and the database's port.
        "REDIS_HOST": "broxiva-dev-redis.eastus.redis.azure.net",
        "REDIS_PORT": "10000",
        "JWT_EXPIRATION": "15m",
        "CORS_ORIGIN": "https://dev.broxiva.com,https://admin-dev.broxiva.com",
        "NEXT_PUBLIC_API_URL": "https://api-dev.broxiva.com",
        "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": "",
        "NEXT_PUBLIC_GOOGLE_ANALYTICS_ID": "",
        "PAYMENT_MODE": "mock",
        "EMAIL_PROVIDER": "mailhog",
        "RATE_LIMITING": "off",
        **otel("1"),
    },
    "staging": {
        "NODE_ENV": "production",
        "APP_ENV": "staging",
        "LOG_LEVEL": "info",
        "ENABLE_DEBUG": "false",
        "API_DOMAIN": "api-staging.broxiva.com",
        "WEB_DOMAIN": "staging.broxiva.com",
        # The cache's own outputs: its host name and the database's port.
        "REDIS_HOST": "broxiva-staging-redis.eastus.redis.azure.net",
        "REDIS_PORT": "10000",
        "JWT_EXPIRATION": "15m",
        "CORS_ORIGIN": "https://staging.broxiva.com,https://admin-staging.broxiva.com",
        "NEXT_PUBLIC_API_URL": "https://api-staging.broxiva.com",
        "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_test_51BroxivaPublishable",
        "NEXT_PUBLIC_GOOGLE_ANALYTICS_ID": "",
        "PAYMENT_MODE": "sandbox",
        "EMAIL_PROVIDER": "sendgrid-test",
        "RATE_LIMITING": "standard",
        **otel("0.5"),
    },
    "prod": {
        "NODE_ENV": "production",
        "APP_ENV": "production",
        "LOG_LEVEL": "warn",
        "ENABLE_DEBUG": "false",
        "API_DOMAIN": "api.broxiva.com",
        "WEB_DOMAIN": "broxiva.com",
        # The cache's own outputs: its host name and the database's port.
        "REDIS_HOST": "broxiva-prod-redis.eastus.redis.azure.net",
        "REDIS_PORT": "10000",
        "JWT_EXPIRATION": "15m",
        "CORS_ORIGIN": "https://broxiva.com,https://admin.broxiva.com,https://www.broxiva.com",
        "NEXT_PUBLIC_API_URL": "https://api.broxiva.com",
        "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_live_51BroxivaPublishable",
        "NEXT_PUBLIC_GOOGLE_ANALYTICS_ID": "G-BROXIVA1",
        "PAYMENT_MODE": "live",
        "EMAIL_PROVIDER": "sendgrid",
        "RATE_LIMITING": "strict",
        **otel("0.1"),
    },
}

# Data service ports: the stacks set neither, so both are the configuration defaults
# (PostgreSQL 5432 in the delegated subnet; Azure Managed Redis 10000, TLS, behind its private endpoint).
POSTGRES_PORT = 5432
REDIS_PORT = 10000
DATA_SUBNETS = {
    stack: (f"10.{n}.5.0/24", f"10.{n}.4.0/24") for stack, n in (("dev", 10), ("staging", 20), ("prod", 30))
}
"""(postgres subnet, private-endpoint subnet) of each stack's network config."""
ROUTED_APP_PORTS = {"broxiva-api": 4000, "broxiva-web": 3000}

# Key Vault secrets the apps read (Secret broxiva-secrets), per stack with its required provided secrets.
GENERATED_SECRETS = {
    "jwt-access-secret",
    "jwt-refresh-secret",
    "session-secret",
    "encryption-key",
    "kyc-encryption-key",
    "postgres-password",
    "redis-password",
    "internal-api-key",
    "postgres-url",
    "redis-url",
    # The environment's Application Insights (tracing at every monitoring level).
    "appinsights-connection-string",
}
APP_SECRETS: dict[str, set[str]] = {
    "dev": GENERATED_SECRETS,
    "staging": GENERATED_SECRETS | {"webhook-secret", "stripe-secret-key", "stripe-webhook-secret", "sendgrid-api-key"},
    "prod": GENERATED_SECRETS | {"webhook-secret", "stripe-secret-key", "stripe-webhook-secret", "sendgrid-api-key"},
}
OPTIONAL_PROVIDED_SECRETS = {
    "paypal-client-id",
    "paypal-client-secret",
    "openai-api-key",
    "google-oauth-client-id",
    "google-oauth-client-secret",
    "facebook-app-id",
    "facebook-app-secret",
    "sentry-dsn",
    "datadog-api-key",
}
PULL_TOKEN_SECRET = "registry-pull-token"
# Variable names differ from the upper-cased vault name only here.
ENV_NAME_EXCEPTIONS = {
    "postgres-url": "DATABASE_URL",
    "appinsights-connection-string": "APPLICATIONINSIGHTS_CONNECTION_STRING",
}

# Charts: (chart, version, repository, namespace).
CHARTS = {
    "external-secrets": ("external-secrets", "2.10.0", "https://charts.external-secrets.io", "external-secrets-system"),
    "cert-manager": ("cert-manager", "v1.21.2", "https://charts.jetstack.io", "cert-manager"),
    "envoy-gateway": ("oci://docker.io/envoyproxy/gateway-helm", "v1.9.3", None, "envoy-gateway-system"),
    "envoy-gateway-crds": ("oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.3", None, "envoy-gateway-system"),
}
# API group of a custom resource -> the chart that installs its CRDs.
CRD_CHART = {
    "external-secrets.io": "external-secrets",
    "cert-manager.io": "cert-manager",
    "gateway.networking.k8s.io": "oci://docker.io/envoyproxy/gateway-crds-helm",
    "gateway.envoyproxy.io": "oci://docker.io/envoyproxy/gateway-crds-helm",
}
API_VERSIONS = {
    "SecretStore": "external-secrets.io/v1",
    "ExternalSecret": "external-secrets.io/v1",
    "ClusterIssuer": "cert-manager.io/v1",
    "Certificate": "cert-manager.io/v1",
    "GatewayClass": "gateway.networking.k8s.io/v1",
    "Gateway": "gateway.networking.k8s.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "EnvoyProxy": "gateway.envoyproxy.io/v1alpha1",
    "BackendTrafficPolicy": "gateway.envoyproxy.io/v1alpha1",
}
ACME_SERVERS = {
    "letsencrypt-production": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
ACME_EMAIL = "platform@broxiva.com"
DNS_ZONE = "broxiva.com"
DNS_ZONE_RESOURCE_GROUP = "broxiva-dns-rg"
GATEWAY_NAME = "broxiva-gateway"
GATEWAY_NAMESPACE = "envoy-gateway-system"
ENVOY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"

DEPLOYER_GROUP = "0b6f3c2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c"
READER_GROUP = "9e8d7c6b-5a49-4382-a716-5f4e3d2c1b0a"

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RATE_UNIT_SECONDS = {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Month": 2_592_000, "Year": 31_536_000}


# --------------------------------------------------------------------------- helpers


def objects(p: Plan, kind: str, namespace: str | None = None) -> list[dict]:
    return [
        o
        for o in kubernetes_objects(p)
        if o["kind"] == kind and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]


def the_object(p: Plan, kind: str, name: str, namespace: str | None = None) -> dict:
    found = [o for o in objects(p, kind, namespace) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name} in {namespace or 'the cluster'}"
    return found[0]


def the_resource(p: Plan, kind: str, name: str, namespace: str | None = None) -> dict:
    """The plan resource (URN, dependencies) of one Kubernetes object."""
    found = [
        r
        for r in p.resources
        if r["type"].startswith("kubernetes:")
        and r["type"].rsplit(":", 1)[-1] == kind
        and (r["inputs"].get("metadata") or {}).get("name") == name
        and (r["inputs"].get("metadata") or {}).get("namespace") == namespace
    ]
    assert len(found) == 1, f"{len(found)} {kind} resources named {name}"
    return found[0]


def releases_by_chart(p: Plan) -> dict[str, dict]:
    out = {}
    for release in helm_releases(p):
        assert release["chart"] not in out, f"two releases of {release['chart']}"
        out[release["chart"]] = release
    return out


def release_resource(p: Plan, chart: str) -> dict:
    found = [r for r in p.by_type(HELM_RELEASE) if r["inputs"].get("chart") == chart]
    assert len(found) == 1, f"{len(found)} releases of {chart}"
    return found[0]


def urn_type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


def waits_for(p: Plan, res: dict, target_urn: str) -> bool:
    """Whether ``res`` is created after ``target_urn``: a direct dependency, else one reached through
    dependencies and parents (a child registers only once its parent exists)."""
    if target_urn in res["dependencies"]:
        return True
    index = {r["urn"]: r for r in p.resources}
    seen: set[str] = set()
    todo = [*res["dependencies"], *([res["parent"]] if res["parent"] else [])]
    while todo:
        urn = todo.pop()
        if urn == target_urn:
            return True
        if urn in seen or urn not in index:
            continue
        seen.add(urn)
        node = index[urn]
        todo.extend(node["dependencies"])
        if node["parent"]:
            todo.append(node["parent"])
    return False


def stack_apps(stack: str) -> dict[str, dict]:
    doc = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return doc["config"]["broxiva-platform:apps"]


def quota_needed(apps: dict[str, dict]) -> dict[str, Decimal]:
    """Both colors of every app at its largest scale (HPA max, else replicas)."""
    need = dict.fromkeys(("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods"), Decimal(0))
    for app in apps.values():
        peak = max(app["replicas"], (app.get("autoscaling") or {}).get("maxReplicas", 0))
        copies = 2 * peak
        need["pods"] += copies
        for bound in ("requests", "limits"):
            need[f"{bound}.cpu"] += parse_cpu(app["resources"][bound]["cpu"]) * copies
            need[f"{bound}.memory"] += parse_memory(app["resources"][bound]["memory"]) * copies
    return need


def quota_of(p: Plan, namespace: str) -> dict[str, Decimal]:
    quotas = objects(p, "ResourceQuota", namespace)
    assert len(quotas) == 1, f"{len(quotas)} ResourceQuotas in {namespace}"
    hard = quotas[0]["spec"]["hard"]
    return {
        "requests.cpu": parse_cpu(hard["requests.cpu"]),
        "limits.cpu": parse_cpu(hard["limits.cpu"]),
        "requests.memory": Decimal(parse_memory(hard["requests.memory"])),
        "limits.memory": Decimal(parse_memory(hard["limits.memory"])),
        "pods": Decimal(int(hard["pods"])),
    }


def labels_of(selector: dict | None) -> tuple:
    selector = selector or {}
    exists = tuple(sorted(e["key"] for e in selector.get("matchExpressions") or () if e["operator"] == "Exists"))
    others = [e for e in selector.get("matchExpressions") or () if e["operator"] != "Exists"]
    assert not others, f"unexpected matchExpressions {selector}"
    labels = tuple(sorted((selector.get("matchLabels") or {}).items()))
    return labels + tuple((key, "*") for key in exists)


def peer_of(peer: dict) -> tuple:
    if "ipBlock" in peer:
        return ("cidr", peer["ipBlock"]["cidr"], tuple(peer["ipBlock"].get("except") or ()))
    namespaces = labels_of(peer["namespaceSelector"]) if "namespaceSelector" in peer else None
    return ("pods", namespaces, labels_of(peer.get("podSelector")))


def flows(rules: list[dict] | None, peers_key: str) -> set[tuple]:
    """(peer, protocol, port, endPort) per peer and port; a missing list means any peer / any port."""
    out = set()
    for rule in rules or []:
        peers = [peer_of(peer) for peer in rule.get(peers_key) or []] or [("any",)]
        ports = rule.get("ports") or [{}]
        for peer in peers:
            for port in ports:
                out.add((peer, port.get("protocol", "TCP"), port.get("port"), port.get("endPort")))
    return out


def normalized_policy(policy: dict) -> dict:
    spec = policy["spec"]
    return {
        "pods": labels_of(spec.get("podSelector")),
        "types": frozenset(spec.get("policyTypes") or ()),
        "ingress": flows(spec.get("ingress"), "from"),
        "egress": flows(spec.get("egress"), "to"),
    }


GATEWAY_PODS = ("pods", (("kubernetes.io/metadata.name", GATEWAY_NAMESPACE),), ())
KUBE_DNS = ("pods", (("kubernetes.io/metadata.name", "kube-system"),), (("k8s-app", "kube-dns"),))
ANYWHERE = ("cidr", "0.0.0.0/0", ())
METRICS_SCRAPER = ("pods", (("kubernetes.io/metadata.name", "kube-system"),), (("rsName", "ama-metrics"),))
APP_PODS = (("broxiva.com/part-of", "broxiva"),)


def expected_policies(postgres_subnet: str, endpoint_subnet: str) -> dict[str, dict]:
    def policy(pods: tuple, types: set[str], ingress: set = frozenset(), egress: set = frozenset()) -> dict:
        return {"pods": pods, "types": frozenset(types), "ingress": set(ingress), "egress": set(egress)}

    expected = {
        "default-deny": policy((), {"Ingress", "Egress"}),
        "allow-dns": policy((), {"Egress"}, egress={(KUBE_DNS, "UDP", 53, None), (KUBE_DNS, "TCP", 53, None)}),
        "allow-egress-data-services": policy(
            APP_PODS,
            {"Egress"},
            # Exactly the data subnets and their ports: nothing else of the VNet, nothing outside it.
            egress={
                (("cidr", postgres_subnet, ()), "TCP", POSTGRES_PORT, None),
                (("cidr", endpoint_subnet, ()), "TCP", REDIS_PORT, None),
            },
        ),
        "allow-egress-https": policy(APP_PODS, {"Egress"}, egress={(ANYWHERE, "TCP", 443, None)}),
        "allow-gateway-to-acme-solver": policy(
            (("acme.cert-manager.io/http01-solver", "true"),), {"Ingress"}, ingress={(GATEWAY_PODS, "TCP", 8089, None)}
        ),
    }
    for app, port in ROUTED_APP_PORTS.items():
        # The gateway, and the app's own promotion gate (from inside the namespace).
        gate = ("pods", None, (("broxiva.com/gate-for", app),))
        expected[f"allow-gateway-to-{app}"] = policy(
            (("app", app),), {"Ingress"}, ingress={(GATEWAY_PODS, "TCP", port, None), (gate, "TCP", port, None)}
        )
        # The managed Prometheus collector, on the metrics port only.
        expected[f"allow-metrics-scrape-{app}"] = policy(
            (("app", app),), {"Ingress"}, ingress={(METRICS_SCRAPER, "TCP", 9464, None)}
        )
    # A gate reaches the apps' pods on their ports and nothing else (it has no part-of label: no HTTPS out).
    expected["allow-gates-to-their-app"] = policy(
        (("broxiva.com/gate-for", "*"),),
        {"Egress"},
        egress={(("pods", None, (("app", app),)), "TCP", port, None) for app, port in ROUTED_APP_PORTS.items()},
    )
    return expected


# --------------------------------------------------------------------------- secret detector for ConfigMaps

_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
_NEVER_PUBLIC_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE", re.IGNORECASE)
_PUBLIC_NAME = re.compile(r"^NEXT_PUBLIC_|PUBLISHABLE", re.IGNORECASE)
_SECRET_VALUES = (
    (re.compile(r"\b(sk|rk)_(live|test)_"), "a Stripe secret or restricted key"),
    (re.compile(r"\bwhsec_"), "a webhook signing secret"),
    (re.compile(r"-----BEGIN"), "a PEM block"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE), "a URL with credentials"),
)
_PUBLISHABLE_VALUE = re.compile(r"^pk_(live|test)_[A-Za-z0-9]+$")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]+")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def random_looking(token: str) -> bool:
    """A long, high-entropy run of key-like characters (hex digests, base64, API keys)."""
    if len(token) < 32 or UUID.match(token.lower()) or _PUBLISHABLE_VALUE.match(token):
        return False
    classes = sum(bool(re.search(c, token)) for c in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and _entropy(token) >= 3.5


def secret_findings(key: str, value: Any) -> list[str]:
    """Why a ConfigMap entry looks like it carries a secret (empty: it does not)."""
    found = []
    if _SECRET_NAME.search(key) and (_NEVER_PUBLIC_NAME.search(key) or not _PUBLIC_NAME.search(key)):
        found.append(f"key {key} names a secret")
    if not isinstance(value, str):
        return [*found, f"{key} is not a plain string"]
    if value == mocks.SECRET_MASK:
        found.append(f"{key} holds a Pulumi secret")
    for pattern, what in _SECRET_VALUES:
        if pattern.search(value):
            found.append(f"{key} holds {what}")
    for token in _TOKEN.findall(value):
        if random_looking(token):
            found.append(f"{key} holds a random-looking string")
            break
    return found


SECRET_LOOKING = [
    ("JWT_ACCESS_SECRET", "short"),
    ("POSTGRES_PASSWORD", "x"),
    ("REGISTRY_TOKEN", "x"),
    ("SENDGRID_API_KEY", "x"),
    ("NEXT_PUBLIC_STRIPE_SECRET_KEY", "x"),
    ("STRIPE", "sk_live_51Habcdef"),
    ("STRIPE", "sk_test_51Habcdef"),
    ("HOOK", "whsec_abc"),
    ("CERT", "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"),
    ("DATABASE", "postgres://broxiva:hunter2@broxiva-prod-pg.postgres.database.azure.com:5432/broxiva"),
    ("DATABASE", "postgresql://u:p@h/db"),
    ("CACHE", "rediss://:s3cret@broxiva-prod-redis.redis.cache.windows.net:6380"),
    ("ANYTHING", "[secret]"),
    ("ANYTHING", hashlib.sha256(b"broxiva").hexdigest()),
    ("ANYTHING", base64.b64encode(hashlib.sha512(b"broxiva").digest()).decode()),
    ("ANYTHING", "mockpw" + hashlib.sha256(b"prod/secrets-jwt-access-secret").hexdigest()[:58]),
    ("LIST", "a,b," + base64.urlsafe_b64encode(hashlib.sha256(b"k").digest()).decode()),
]
NOT_SECRET_LOOKING = [
    ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_live_51BroxivaPublishable"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_" + "A1b2C3d4" * 12),
    ("NEXT_PUBLIC_GOOGLE_ANALYTICS_ID", "G-BROXIVA1"),
    ("REDIS_HOST", "broxiva-staging-redis.redis.cache.windows.net"),
    ("CORS_ORIGIN", "https://broxiva.com,https://admin.broxiva.com,https://www.broxiva.com"),
    ("NEXT_PUBLIC_API_URL", "https://api.broxiva.com"),
    ("DATABASE_HOST", "postgres://broxiva-prod-pg.postgres.database.azure.com:5432/broxiva"),
    ("AZURE_CLIENT_ID", "308ba27a-6428-5014-8a3d-01d92a7c4df0"),
    ("JWT_EXPIRATION", "15m"),
    ("LOG_LEVEL", "a" * 40),
    ("NODE_ENV", "production"),
]


@pytest.mark.parametrize(("key", "value"), SECRET_LOOKING)
def test_secret_detector_flags_secrets(key: str, value: str) -> None:
    assert secret_findings(key, value)


@pytest.mark.parametrize(("key", "value"), NOT_SECRET_LOOKING)
def test_secret_detector_passes_plain_settings(key: str, value: str) -> None:
    assert secret_findings(key, value) == []


@pytest.mark.parametrize("stack", STACKS)
def test_no_config_map_of_any_stack_holds_a_secret(plan, stack: str) -> None:
    config_maps = objects(plan(stack), "ConfigMap")
    assert any(cm["metadata"]["name"] == "broxiva-config" for cm in config_maps)
    problems = []
    for cm in config_maps:
        where = f"{cm['metadata'].get('namespace')}/{cm['metadata']['name']}"
        data = cm.get("data") or {}
        if not isinstance(data, dict):
            problems.append(f"{where}: data is {data!r}")
            continue
        for key, value in data.items():
            problems += [f"{where}: {finding}" for finding in secret_findings(key, value)]
        problems += [f"{where}: binaryData {key}" for key in cm.get("binaryData") or {}]
    assert problems == []


# --------------------------------------------------------------------------- namespaces


@pytest.mark.parametrize("stack", STACKS)
def test_app_namespace_enforces_restricted_pod_security(plan, stack: str) -> None:
    m = MATRIX[stack]
    labels = the_object(plan(stack), "Namespace", m["namespace"])["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["broxiva.com/environment"] == m["environment"]


@pytest.mark.parametrize("stack", STACKS)
def test_add_on_namespaces(plan, stack: str) -> None:
    p = plan(stack)
    for name in ("external-secrets-system", "cert-manager"):
        labels = the_object(p, "Namespace", name)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", name
    gateway = the_object(p, "Namespace", GATEWAY_NAMESPACE)["metadata"]["labels"]
    assert gateway["pod-security.kubernetes.io/enforce"] in ("baseline", "restricted")
    assert gateway["pod-security.kubernetes.io/warn"] == "restricted"


# --------------------------------------------------------------------------- RBAC


def group_bindings(p: Plan) -> list[dict]:
    return [
        b
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for b in objects(p, kind)
        if any(s.get("kind") == "Group" for s in b.get("subjects") or [])
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_no_group_bindings_without_rbac_groups(plan, stack: str) -> None:
    assert group_bindings(plan(stack)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_rbac_groups_are_bound_in_the_app_namespace(plan, stack: str) -> None:
    ns = MATRIX[stack]["namespace"]
    p = plan(
        stack, {"rbac.deployerGroupObjectIds": f"[{DEPLOYER_GROUP}]", "rbac.readerGroupObjectIds": f"[{READER_GROUP}]"}
    )
    bindings = group_bindings(p)
    assert all(b["kind"] == "RoleBinding" and b["metadata"]["namespace"] == ns for b in bindings)
    by_group = {tuple(s["name"] for s in b["subjects"]): b for b in bindings}
    assert set(by_group) == {(DEPLOYER_GROUP,), (READER_GROUP,)}
    for b in bindings:
        assert b["subjects"] == [
            {"kind": "Group", "name": b["subjects"][0]["name"], "apiGroup": "rbac.authorization.k8s.io"}
        ]

    readers = by_group[(READER_GROUP,)]["roleRef"]
    assert readers == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}

    deployers = by_group[(DEPLOYER_GROUP,)]["roleRef"]
    assert deployers["kind"] == "Role" and deployers["apiGroup"] == "rbac.authorization.k8s.io"
    role = the_object(p, "Role", deployers["name"], ns)
    for rule in role["rules"]:
        assert "secrets" not in rule.get("resources", []), "deployers must not read secrets"
        assert "*" not in rule.get("resources", []) + rule.get("verbs", []) + rule.get("apiGroups", [])


def test_each_rbac_group_list_binds_only_itself(plan) -> None:
    deployers_only = group_bindings(plan("dev", {"rbac.deployerGroupObjectIds": f"[{DEPLOYER_GROUP}]"}))
    assert [(b["roleRef"]["kind"], b["subjects"][0]["name"]) for b in deployers_only] == [("Role", DEPLOYER_GROUP)]
    readers_only = group_bindings(plan("dev", {"rbac.readerGroupObjectIds": f"[{READER_GROUP}]"}))
    assert [(b["roleRef"]["name"], b["subjects"][0]["name"]) for b in readers_only] == [("view", READER_GROUP)]


# --------------------------------------------------------------------------- network policies


def app_policies(p: Plan, namespace: str) -> dict[str, dict]:
    policies = objects(p, "NetworkPolicy", namespace)
    names = [np["metadata"]["name"] for np in policies]
    assert len(names) == len(set(names))
    return {np["metadata"]["name"]: normalized_policy(np) for np in policies}


@pytest.mark.parametrize("stack", STACKS)
def test_network_policies_allow_exactly_the_listed_flows(plan, stack: str) -> None:
    actual = app_policies(plan(stack), MATRIX[stack]["namespace"])
    assert actual == expected_policies(*DATA_SUBNETS[stack])


def test_data_service_subnets_follow_the_stack_config(plan) -> None:
    p = plan(
        "staging", {"network.subnets.postgres": "10.20.8.0/25", "network.subnets.privateEndpoints": "10.20.9.0/26"}
    )
    actual = app_policies(p, MATRIX["staging"]["namespace"])
    assert actual == expected_policies("10.20.8.0/25", "10.20.9.0/26")
    assert actual != expected_policies(*DATA_SUBNETS["staging"])


def test_network_policy_comparison_sees_an_extra_flow(plan) -> None:
    p = plan("dev")
    policy = the_object(p, "NetworkPolicy", "allow-egress-https", MATRIX["dev"]["namespace"])
    policy["spec"]["egress"][0]["ports"].append({"protocol": "TCP", "port": 22})
    assert normalized_policy(policy) != expected_policies(*DATA_SUBNETS["dev"])["allow-egress-https"]


@pytest.mark.parametrize("stack", STACKS)
def test_policy_selectors_match_the_app_pods(plan, stack: str) -> None:
    p = plan(stack)
    deployments = objects(p, "Deployment", MATRIX[stack]["namespace"])
    for app, port in ROUTED_APP_PORTS.items():
        pods = [
            d["spec"]["template"] for d in deployments if d["spec"]["template"]["metadata"]["labels"].get("app") == app
        ]
        assert pods, f"no pods labelled app={app}"
        for pod in pods:
            assert port in {cp["containerPort"] for c in pod["spec"]["containers"] for cp in c.get("ports") or []}
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert labels.get("broxiva.com/part-of") == "broxiva", d["metadata"]["name"]


# --------------------------------------------------------------------------- quota and limits


@pytest.mark.parametrize("stack", STACKS)
def test_quota_holds_both_colors_of_every_app_at_max_scale(plan, stack: str) -> None:
    quota = quota_of(plan(stack), MATRIX[stack]["namespace"])
    need = quota_needed(stack_apps(stack))
    for resource, amount in need.items():
        assert quota[resource] >= amount, f"{resource}: quota {quota[resource]} < needed {amount}"


@pytest.mark.parametrize("stack", STACKS)
def test_limit_range_admits_every_app(plan, stack: str) -> None:
    ns = MATRIX[stack]["namespace"]
    ranges = objects(plan(stack), "LimitRange", ns)
    assert len(ranges) == 1
    (container,) = [item for item in ranges[0]["spec"]["limits"] if item["type"] == "Container"]
    assert container["default"] and container["defaultRequest"]
    for name, app in stack_apps(stack).items():
        limits = app["resources"]["limits"]
        assert parse_cpu(container["max"]["cpu"]) >= parse_cpu(limits["cpu"]), name
        assert parse_memory(container["max"]["memory"]) >= parse_memory(limits["memory"]), name


@pytest.mark.parametrize("stack", STACKS)
def test_doubling_the_hpa_maximum_grows_the_quota(plan, stack: str) -> None:
    apps = stack_apps(stack)
    sets = {}
    for name, app in apps.items():
        if app.get("autoscaling"):
            app["autoscaling"]["maxReplicas"] *= 2
            sets[f"apps.{name}.autoscaling.maxReplicas"] = str(app["autoscaling"]["maxReplicas"])
        else:
            app["autoscaling"] = {"minReplicas": app["replicas"], "maxReplicas": 2 * app["replicas"]}
            sets[f"apps.{name}.autoscaling"] = json.dumps(app["autoscaling"])
    ns = MATRIX[stack]["namespace"]
    before = quota_of(plan(stack), ns)
    after = quota_of(plan(stack, sets), ns)
    need = quota_needed(apps)
    for resource in before:
        assert after[resource] > before[resource], resource
        assert after[resource] >= need[resource], resource


# --------------------------------------------------------------------------- app settings


@pytest.mark.parametrize("stack", STACKS)
def test_app_settings_config_map(plan, stack: str) -> None:
    data = dict(the_object(plan(stack), "ConfigMap", "broxiva-config", MATRIX[stack]["namespace"])["data"])
    expected = dict(APP_SETTINGS[stack])
    assert set(data["CORS_ORIGIN"].split(",")) == set(expected.pop("CORS_ORIGIN").split(","))
    data.pop("CORS_ORIGIN")
    assert data == expected


# --------------------------------------------------------------------------- Helm releases and CRDs


@pytest.mark.parametrize("stack", STACKS)
def test_exactly_the_pinned_charts(plan, stack: str) -> None:
    releases = releases_by_chart(plan(stack))
    assert len(helm_releases(plan(stack))) == len(CHARTS)
    expected = {chart: (version, repo, ns) for chart, version, repo, ns in CHARTS.values()}
    assert {c: (r["version"], r["repository"], r["namespace"]) for c, r in releases.items()} == expected


@pytest.mark.parametrize("stack", STACKS)
def test_release_values(plan, stack: str) -> None:
    releases = releases_by_chart(plan(stack))
    eso = releases["external-secrets"]["values"]
    assert eso["installCRDs"] is True
    cm = releases["cert-manager"]["values"]
    assert cm["crds"]["enabled"] is True
    assert cm["podLabels"]["azure.workload.identity/use"] == "true"
    assert cm["config"]["apiVersion"] == "controller.config.cert-manager.io/v1alpha1"
    assert cm["config"]["kind"] == "ControllerConfiguration"
    assert cm["config"]["gatewayAPI"] == {"enabled": True}


@pytest.mark.parametrize("stack", STACKS)
def test_releases_are_installed_into_their_namespaces(plan, stack: str) -> None:
    p = plan(stack)
    for chart, _, _, namespace in CHARTS.values():
        release = release_resource(p, chart)
        ns = the_resource(p, "Namespace", namespace)
        assert release["inputs"]["namespace"] == namespace
        assert ns["urn"] in release["dependencies"], f"{chart} does not wait for namespace {namespace}"


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_starts_after_the_gateway_api_crds(plan, stack: str) -> None:
    p = plan(stack)
    envoy = release_resource(p, CHARTS["envoy-gateway"][0])
    assert envoy["urn"] in release_resource(p, "cert-manager")["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_wait_for_the_release_with_their_crds(plan, stack: str) -> None:
    p = plan(stack)
    release_urns = {chart: release_resource(p, chart)["urn"] for chart in set(CRD_CHART.values())}
    checked = Counter()
    for res in p.resources:
        if not res["type"].startswith("kubernetes:") or not res["custom"]:
            continue
        group = res["type"].split(":")[1].split("/")[0]
        if group not in CRD_CHART:
            continue
        assert waits_for(p, res, release_urns[CRD_CHART[group]]), f"{res['name']} may be created before its CRDs"
        checked[group] += 1
    assert set(checked) == set(CRD_CHART)


def test_crd_dependency_check_sees_a_missing_dependency(plan) -> None:
    p = plan("dev")
    store = the_resource(p, "SecretStore", "azure-keyvault-broxiva", MATRIX["dev"]["namespace"])
    eso = release_resource(p, "external-secrets")["urn"]
    assert waits_for(p, store, eso)
    store["dependencies"] = [d for d in store["dependencies"] if d != eso]
    assert not waits_for(p, store, eso)


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resource_api_versions(plan, stack: str) -> None:
    p = plan(stack)
    seen = set()
    for obj in kubernetes_objects(p):
        if obj["kind"] in API_VERSIONS:
            assert obj["apiVersion"] == API_VERSIONS[obj["kind"]], f"{obj['kind']} {obj['metadata']['name']}"
            seen.add(obj["kind"])
    for res in p.resources:
        kind = res["type"].rsplit(":", 1)[-1]
        if res["type"].startswith("kubernetes:") and kind in API_VERSIONS:
            assert res["type"] == f"kubernetes:{API_VERSIONS[kind]}:{kind}"
    expected = set(API_VERSIONS) - (set() if MATRIX[stack]["rate_limited"] else {"BackendTrafficPolicy"})
    assert seen == expected


# --------------------------------------------------------------------------- External Secrets and identities


def federation_for(p: Plan, namespace: str, service_account: str) -> dict:
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    found = [
        r
        for r in p.by_type("azure-native:managedidentity:FederatedIdentityCredential")
        if r["inputs"]["subject"] == subject
    ]
    assert len(found) == 1, f"{len(found)} federated credentials for {subject}"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_workload_identities_are_federated_to_their_service_accounts(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    reader = the_object(p, "ServiceAccount", "keyvault-reader", ns)
    reader_client = reader["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert UUID.match(reader_client)

    cert_manager = releases_by_chart(p)["cert-manager"]
    cm_account = cert_manager["values"]["serviceAccount"]
    cm_client = cm_account["annotations"]["azure.workload.identity/client-id"]
    assert UUID.match(cm_client)
    assert reader_client != cm_client
    for issuer in ACME_SERVERS:
        spec = the_object(p, "ClusterIssuer", issuer)["spec"]["acme"]
        (dns01,) = [s["dns01"]["azureDNS"] for s in spec["solvers"] if "dns01" in s]
        assert dns01["managedIdentity"]["clientID"] == cm_client

    for (namespace, account), client in (
        ((ns, "keyvault-reader"), reader_client),
        ((cert_manager["namespace"], cm_account["name"]), cm_client),
    ):
        federation = federation_for(p, namespace, account)
        assert federation["inputs"]["issuer"] == p.outputs["oidcIssuerUrl"]
        assert federation["inputs"]["audiences"] == ["api://AzureADTokenExchange"]
        identity = p.urn_of(federation["parent"])
        assert identity["type"] == "azure-native:managedidentity:UserAssignedIdentity"
        # The offline engine answers each identity's clientId deterministically from its logical name.
        assert client == mocks.stable_uuid(p.stack, identity["name"], "client")


@pytest.mark.parametrize("stack", STACKS)
def test_secret_store_reads_the_stack_vault_as_the_reader(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    azurekv = the_object(p, "SecretStore", "azure-keyvault-broxiva", ns)["spec"]["provider"]["azurekv"]
    assert azurekv["authType"] == "WorkloadIdentity"
    assert azurekv["vaultUrl"] == p.outputs["keyVaultUri"]
    assert azurekv["serviceAccountRef"] == {"name": "keyvault-reader"}


def vault_secret_names(p: Plan) -> set[str]:
    return {r["inputs"]["secretName"] for r in p.by_type("azure-native:keyvault:Secret")}


def all_secrets_data(p: Plan, namespace: str) -> dict[str, str]:
    """Key Vault name -> Secret key of ExternalSecret broxiva-all-secrets."""
    spec = the_object(p, "ExternalSecret", "broxiva-all-secrets", namespace)["spec"]
    keys = [d["remoteRef"]["key"] for d in spec["data"]]
    assert len(keys) == len(set(keys))
    return {d["remoteRef"]["key"]: d["secretKey"] for d in spec["data"]}


def env_name(vault_name: str) -> str:
    return ENV_NAME_EXCEPTIONS.get(vault_name, vault_name.upper().replace("-", "_"))


@pytest.mark.parametrize("stack", STACKS)
def test_all_secrets_maps_exactly_the_vault_secrets(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    spec = the_object(p, "ExternalSecret", "broxiva-all-secrets", ns)["spec"]
    assert spec["target"]["name"] == "broxiva-secrets"
    assert spec["refreshInterval"] == "1h"
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "azure-keyvault-broxiva"}
    data = all_secrets_data(p, ns)
    assert set(data) == vault_secret_names(p) - {PULL_TOKEN_SECRET}
    assert set(data) == APP_SECRETS[stack]
    assert data == {name: env_name(name) for name in data}
    assert data["jwt-access-secret"] == "JWT_ACCESS_SECRET"
    assert data["postgres-url"] == "DATABASE_URL"
    assert data["redis-url"] == "REDIS_URL"
    assert not set(data) & OPTIONAL_PROVIDED_SECRETS


@pytest.mark.parametrize("stack", STACKS)
def test_a_provided_optional_secret_is_synced(plan, stack: str) -> None:
    p = plan(stack, secret_sets={"providedSecrets.sentryDsn": "x"})
    data = all_secrets_data(p, MATRIX[stack]["namespace"])
    assert data["sentry-dsn"] == "SENTRY_DSN"
    assert set(data) == vault_secret_names(p) - {PULL_TOKEN_SECRET}
    assert set(data) == APP_SECRETS[stack] | {"sentry-dsn"}


@pytest.mark.parametrize("stack", STACKS)
def test_registry_pull_secret(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    host = MATRIX[stack]["pull_registry"]
    pulls = [es for es in objects(p, "ExternalSecret", ns) if es["metadata"]["name"] == "registry-pull-secret"]
    if host is None:
        assert pulls == []
        assert PULL_TOKEN_SECRET not in vault_secret_names(p)
        return
    (pull,) = pulls
    spec = pull["spec"]
    assert PULL_TOKEN_SECRET in vault_secret_names(p)
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "azure-keyvault-broxiva"}
    assert spec["target"]["name"] == "registry-pull-secret"
    template = spec["target"]["template"]
    assert template["type"] == "kubernetes.io/dockerconfigjson"
    (entry,) = spec["data"]
    assert entry["remoteRef"]["key"] == PULL_TOKEN_SECRET
    config = json.loads(template["data"][".dockerconfigjson"])
    assert set(config["auths"]) == {host}
    assert f".{entry['secretKey']}" in config["auths"][host]["password"]


# --------------------------------------------------------------------------- cert-manager


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_issuers(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    http_listener = http_listener_of(gateway_of(p, ns))
    for name, server in ACME_SERVERS.items():
        acme = the_object(p, "ClusterIssuer", name)["spec"]["acme"]
        assert acme["server"] == server
        assert acme["email"] == ACME_EMAIL
        dns01 = [s for s in acme["solvers"] if "dns01" in s]
        http01 = [s for s in acme["solvers"] if "http01" in s]
        assert len(dns01) == 1 and len(http01) == 1 and len(acme["solvers"]) == 2
        assert dns01[0]["selector"] == {"dnsZones": [DNS_ZONE]}
        azure = dns01[0]["dns01"]["azureDNS"]
        assert UUID.match(azure["subscriptionID"])
        assert azure["resourceGroupName"] == DNS_ZONE_RESOURCE_GROUP
        assert azure["hostedZoneName"] == DNS_ZONE
        assert azure["environment"] == "AzurePublicCloud"
        assert UUID.match(azure["managedIdentity"]["clientID"])
        parents = http01[0]["http01"]["gatewayHTTPRoute"]["parentRefs"]
        assert [ref["name"] for ref in parents] == [GATEWAY_NAME]
        assert parents[0].get("namespace", ns) == ns
        assert parents[0].get("sectionName", http_listener["name"]) == http_listener["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_certificates(plan, stack: str) -> None:
    p = plan(stack)
    m = MATRIX[stack]
    web_hosts = [m["web"], m["admin"], *([m["www"]] if m["www"] else []), m["wildcard"]]
    expected = {f"broxiva-api-tls-{m['environment']}": [m["api"]], f"broxiva-web-tls-{m['environment']}": web_hosts}
    for name, hosts in expected.items():
        spec = the_object(p, "Certificate", name, m["namespace"])["spec"]
        assert spec["secretName"] == name
        assert spec["issuerRef"]["kind"] == "ClusterIssuer"
        assert spec["issuerRef"]["name"] == "letsencrypt-production"
        assert spec["issuerRef"].get("group", "cert-manager.io") == "cert-manager.io"
        assert len(spec["dnsNames"]) == len(set(spec["dnsNames"]))
        assert set(spec["dnsNames"]) == set(hosts)


# --------------------------------------------------------------------------- edge


def gateway_of(p: Plan, namespace: str) -> dict:
    return the_object(p, "Gateway", GATEWAY_NAME, namespace)


def http_listener_of(gateway: dict) -> dict:
    (listener,) = [lst for lst in gateway["spec"]["listeners"] if lst["protocol"] == "HTTP"]
    assert listener["port"] == 80
    return listener


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_class_uses_envoy_gateway(plan, stack: str) -> None:
    p = plan(stack)
    gateway = gateway_of(p, MATRIX[stack]["namespace"])
    gateway_class = the_object(p, "GatewayClass", gateway["spec"]["gatewayClassName"])
    assert gateway_class["spec"]["controllerName"] == ENVOY_CONTROLLER


@pytest.mark.parametrize("stack", STACKS)
def test_envoy_proxy_uses_the_static_public_ip(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    ref = gateway_of(p, ns)["spec"]["infrastructure"]["parametersRef"]
    assert (ref["group"], ref["kind"]) == ("gateway.envoyproxy.io", "EnvoyProxy")
    proxy = the_object(p, "EnvoyProxy", ref["name"], ns)
    annotations = proxy["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"]
    ips = {r["inputs"]["publicIpAddressName"]: r for r in p.by_type("azure-native:network:PublicIPAddress")}
    pip_name = annotations["service.beta.kubernetes.io/azure-pip-name"]
    assert pip_name in ips
    group = annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"]
    assert group == p.outputs["resourceGroup"] == MATRIX[stack]["resource_group"]
    assert ips[pip_name]["inputs"]["resourceGroupName"] == group
    assert ips[pip_name]["urn"] in the_resource(p, "EnvoyProxy", ref["name"], ns)["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_listeners(plan, stack: str) -> None:
    p = plan(stack)
    m = MATRIX[stack]
    web_cert = f"broxiva-web-tls-{m['environment']}"
    api_cert = f"broxiva-api-tls-{m['environment']}"
    expected = {m["web"]: web_cert, m["admin"]: web_cert, m["api"]: api_cert}
    if m["www"]:
        expected[m["www"]] = web_cert
    listeners = gateway_of(p, m["namespace"])["spec"]["listeners"]
    http_listener_of(gateway_of(p, m["namespace"]))
    https = [lst for lst in listeners if lst["protocol"] == "HTTPS"]
    assert len(listeners) == len(https) + 1
    assert len({lst["name"] for lst in listeners}) == len(listeners)
    hosts = [lst["hostname"] for lst in https]
    assert len(hosts) == len(set(hosts))
    actual = {}
    for lst in https:
        assert lst["port"] == 443
        assert lst["tls"]["mode"] == "Terminate"
        (ref,) = lst["tls"]["certificateRefs"]
        assert ref.get("kind", "Secret") == "Secret" and "namespace" not in ref
        actual[lst["hostname"]] = ref["name"]
    assert actual == expected
    certificates = {c["spec"]["secretName"] for c in objects(p, "Certificate", m["namespace"])}
    assert set(actual.values()) <= certificates


@pytest.mark.parametrize("stack", STACKS)
def test_http_redirects_to_https(plan, stack: str) -> None:
    p = plan(stack)
    ns = MATRIX[stack]["namespace"]
    http = http_listener_of(gateway_of(p, ns))
    route = the_object(p, "HTTPRoute", "https-redirect", ns)["spec"]
    assert route["parentRefs"] == [{"name": GATEWAY_NAME, "sectionName": http["name"]}]
    (rule,) = route["rules"]
    assert rule["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]


def smallest_rate(policy: dict) -> float:
    rules = policy["spec"]["rateLimit"]["local"]["rules"]
    assert rules
    return min(r["limit"]["requests"] / RATE_UNIT_SECONDS[r["limit"]["unit"]] for r in rules)


def rate_limits(p: Plan, namespace: str) -> list[dict]:
    policies = objects(p, "BackendTrafficPolicy", namespace)
    for policy in policies:
        assert policy["spec"]["targetRefs"] == [
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}
        ]
    return policies


def test_rate_limits_off_in_dev_on_in_staging_stricter_in_prod(plan) -> None:
    assert rate_limits(plan("dev"), MATRIX["dev"]["namespace"]) == []
    (staging,) = rate_limits(plan("staging"), MATRIX["staging"]["namespace"])
    (prod,) = rate_limits(plan("prod"), MATRIX["prod"]["namespace"])
    assert smallest_rate(prod) < smallest_rate(staging)


# --------------------------------------------------------------------------- the Kubernetes provider


@pytest.mark.parametrize("stack", STACKS)
def test_one_kubernetes_provider_given_to_top_level_components(plan, stack: str) -> None:
    p = plan(stack)
    (provider,) = p.by_type("pulumi:providers:kubernetes")
    kube = [r for r in p.resources if r["type"].startswith("kubernetes:")]
    assert kube
    for res in kube:
        assert res["provider"], f"{res['name']} uses the default provider"
        urn, _, ident = res["provider"].rpartition("::")
        assert urn == provider["urn"] and ident, f"{res['name']} uses {res['provider']}"
    components = [r for r in p.resources if r["type"].startswith("broxiva:k8s:")]
    assert {c["type"] for c in components} >= {
        "broxiva:k8s:AppNamespace",
        "broxiva:k8s:ExternalSecrets",
        "broxiva:k8s:CertManager",
        "broxiva:k8s:Edge",
    }
    for component in components:
        assert component["parent"] and urn_type(component["parent"]) == "pulumi:pulumi:Stack", component["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_crds_come_from_their_own_upgradable_release(plan, stack: str) -> None:
    # Helm never upgrades a chart's crds/ folder: gateway-helm's is off, the CRD chart renders them as
    # templates, and the controller's release waits for it.
    p = plan(stack)
    controller = release_resource(p, CHARTS["envoy-gateway"][0])
    crds = release_resource(p, CHARTS["envoy-gateway-crds"][0])
    assert controller["inputs"]["values"]["crds"] == {"enabled": False}
    assert crds["inputs"]["values"]["crds"] == {
        "gatewayAPI": {"enabled": True, "channel": "experimental"},
        "envoyGateway": {"enabled": True},
    }
    assert crds["urn"] in controller["dependencies"]
    assert crds["inputs"]["version"] == controller["inputs"]["version"]
