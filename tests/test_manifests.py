"""Every rendered Kubernetes object of every stack is valid for the configured cluster version.

Built-in kinds are checked against the Kubernetes OpenAPI schema (kubernetes-validate ships them,
strict: unknown fields fail). Custom resources, which it does not know, are checked structurally
against the fields of their CRDs at the pinned chart versions.
"""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.config import ClusterConfig
from tests.conftest import PROJECT_DIR, STACKS, run_program
from tools.plan import render

# Custom resource kinds: required spec fields and every spec field the CRD allows at the top of spec.
SCRAPE_API = "azmonitoring.coreos.com/v1"
_MONITOR_FIELDS = {
    "attachMetadata", "bodySizeLimit", "convertClassicHistogramsToNHCB", "fallbackScrapeProtocol", "jobLabel",
    "keepDroppedTargets", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit", "namespaceSelector",
    "nativeHistogramBucketLimit", "nativeHistogramMinBucketFactor", "podTargetLabels", "sampleLimit", "scrapeClass",
    "scrapeClassicHistograms", "scrapeProtocols", "selector", "selectorMechanism", "targetLimit",
}  # fmt: skip
CRD_SPECS: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    # The AKS metrics add-on's copies of the Prometheus Operator kinds (Azure/prometheus-collector,
    # otelcollector/deploy/addon-chart/azure-monitor-metrics-addon/templates/ama-metrics-*-crd.yaml).
    (SCRAPE_API, "ServiceMonitor"): ({"selector", "endpoints"}, _MONITOR_FIELDS | {"endpoints", "targetLabels"}),
    (SCRAPE_API, "PodMonitor"): ({"selector"}, _MONITOR_FIELDS | {"podMetricsEndpoints"}),
    ("external-secrets.io/v1", "SecretStore"): (
        {"provider"},
        {"provider", "controller", "retrySettings", "refreshInterval", "conditions"},
    ),
    ("external-secrets.io/v1", "ExternalSecret"): (
        {"secretStoreRef"},
        {"refreshInterval", "refreshPolicy", "secretStoreRef", "target", "data", "dataFrom"},
    ),
    ("cert-manager.io/v1", "ClusterIssuer"): (set(), {"acme", "ca", "selfSigned", "vault", "venafi"}),
    ("cert-manager.io/v1", "Certificate"): (
        {"secretName", "issuerRef"},
        {
            "secretName",
            "issuerRef",
            "dnsNames",
            "commonName",
            "duration",
            "renewBefore",
            "renewBeforePercentage",
            "privateKey",
            "secretTemplate",
            "usages",
            "revisionHistoryLimit",
            "subject",
            "ipAddresses",
            "uris",
            "emailAddresses",
            "isCA",
            "keystores",
            "literalSubject",
            "nameConstraints",
            "otherNames",
            "encodeUsagesInRequest",
            "additionalOutputFormats",
            "signatureAlgorithm",
        },
    ),
    ("gateway.networking.k8s.io/v1", "GatewayClass"): (
        {"controllerName"},
        {"controllerName", "description", "parametersRef"},
    ),
    ("gateway.networking.k8s.io/v1", "Gateway"): (
        {"gatewayClassName", "listeners"},
        {"gatewayClassName", "listeners", "addresses", "infrastructure", "backendTLS", "allowedListeners", "tls"},
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): (set(), {"parentRefs", "hostnames", "rules"}),
    ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"): (
        set(),
        {
            "provider",
            "logging",
            "telemetry",
            "bootstrap",
            "concurrency",
            "routingType",
            "extraArgs",
            "shutdown",
            "mergeGateways",
            "filterOrder",
            "backendTLS",
            "ipFamily",
            "preserveRouteOrder",
            "luaValidation",
        },
    ),
    ("gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy"): (
        {"targetRefs"},
        {
            "targetRef",
            "targetRefs",
            "targetSelectors",
            "rateLimit",
            "loadBalancer",
            "retry",
            "timeout",
            "circuitBreaker",
            "healthCheck",
            "faultInjection",
            "tcpKeepalive",
            "proxyProtocol",
            "connection",
            "dns",
            "http2",
            "compression",
            "responseOverride",
            "mergeType",
            "useClientProtocol",
            "telemetry",
            "requestBuffer",
            "routingType",
            "httpUpgrade",
        },
    ),
}


def _objects(stack: str) -> list[dict]:
    return render.kubernetes_objects(run_program(stack))


def _version(stack: str) -> str:
    """The cluster's Kubernetes version from the stack file, as kubernetes-validate names it."""
    doc = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]["broxiva-platform:cluster"]
    minor = ClusterConfig.model_validate(doc).kubernetes_version
    return minor if minor.count(".") == 2 else f"{minor}.0"


@pytest.mark.parametrize("stack", STACKS)
def test_builtin_kinds_pass_the_kubernetes_schema(stack: str) -> None:
    version = _version(stack)
    checked = 0
    for obj in _objects(stack):
        if (obj["apiVersion"], obj["kind"]) in CRD_SPECS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_match_their_crd_fields(stack: str) -> None:
    seen = set()
    for obj in _objects(stack):
        key = (obj["apiVersion"], obj["kind"])
        if key not in CRD_SPECS:
            continue
        seen.add(key)
        required, allowed = CRD_SPECS[key]
        spec = obj.get("spec") or {}
        assert required <= set(spec), f"{key} {obj['metadata']['name']} misses {required - set(spec)}"
        assert set(spec) <= allowed, f"{key} {obj['metadata']['name']} has unknown {set(spec) - allowed}"
        assert obj["metadata"].get("name"), f"{key} without a name"
    # Every custom resource kind the platform relies on is rendered in every stack.
    # (The scrape kinds exist from monitoring level full: not in dev.)
    wanted = {k for k in CRD_SPECS if k[1] != "BackendTrafficPolicy" and (stack != "dev" or k[0] != SCRAPE_API)}
    assert wanted <= seen


SCHEMA_DIR = PROJECT_DIR / "tests" / "schemas"


def _closed(schema: dict) -> dict:
    """Kubernetes prunes unknown fields; here an unknown field is an error, so objects are made closed."""
    out = dict(schema)
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    for key in ("properties",):
        if key in out:
            out[key] = {k: _closed(v) for k, v in out[key].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _closed(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _closed(out["additionalProperties"])
    return out


def _crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    validators = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        schema = _closed(doc["schema"])
        validators[(doc["apiVersion"], doc["kind"])] = jsonschema.Draft202012Validator(schema)
    return validators


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_pass_their_vendored_crd_schemas(stack: str) -> None:
    validators = _crd_validators()
    checked = 0
    for obj in _objects(stack):
        validator = validators.get((obj["apiVersion"], obj["kind"]))
        if validator is None:
            continue
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{obj['kind']} {obj['metadata']['name']}: {errors[0].message} at {list(errors[0].path)}"
        checked += 1
    assert checked >= 3  # the GatewayClass and both Certificates


def test_vendored_crd_schema_rejects_a_bad_certificate() -> None:
    validator = _crd_validators()[("cert-manager.io/v1", "Certificate")]
    cert = next(o for o in _objects("prod") if o["kind"] == "Certificate")
    bad = json.loads(json.dumps(cert))
    bad["spec"]["privateKey"]["rotationPolicy"] = "Sometimes"
    assert list(validator.iter_errors(bad))
    bad = json.loads(json.dumps(cert))
    bad["spec"]["issuerRef"]["nmae"] = bad["spec"]["issuerRef"].pop("name")
    assert list(validator.iter_errors(bad))


def test_schema_validation_rejects_a_bad_object() -> None:
    obj = next(o for o in _objects("prod") if o["kind"] == "ResourceQuota")
    broken = yaml.safe_load(yaml.safe_dump(obj))
    broken["spec"]["hardd"] = broken["spec"].pop("hard")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, _version("prod"), strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_has_an_api_version_kind_and_unique_identity(stack: str) -> None:
    ids = []
    for obj in _objects(stack):
        assert obj["apiVersion"] and obj["kind"]
        ids.append((obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]))
    assert len(ids) == len(set(ids))
