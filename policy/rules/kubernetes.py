"""Resource rules for Kubernetes objects: pod security, resources, probes, images, namespaces,
ConfigMaps and Helm releases."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .common import (
    UNKNOWN,
    as_dict,
    as_list,
    dig,
    display_name,
    k8s_group_kind,
    matches_prefix,
    resource_policy,
    string_list,
)

NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"

# Where each workload kind keeps its pod spec.
_POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("core", "Pod"): ("spec",),
    ("core", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_TYPES = sorted(f"kubernetes:{group}/v1:{kind}" for (group, kind) in _POD_SPEC_PATHS)

APP_NAMESPACE_PREFIXES = string_list(
    "appNamespacePrefixes", ["broxiva-"], "Namespaces whose name starts with one of these hold the apps."
)

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def pod_spec(resource_type: str, props: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload object, or None for other objects (or an unknown spec)."""
    group_kind = k8s_group_kind(resource_type)
    path = _POD_SPEC_PATHS.get(group_kind) if group_kind else None
    if path is None:
        return None
    spec = dig(props, *path)
    return spec if isinstance(spec, dict) else None


def containers(spec: dict[str, Any], *, init: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """(kind, container) pairs of a pod spec: containers, then init containers."""
    out = [("container", as_dict(c)) for c in as_list(spec.get("containers"))]
    if init:
        out += [("init container", as_dict(c)) for c in as_list(spec.get("initContainers"))]
    return out


def _where(resource_type: str, props: dict[str, Any], name: str, kind: str, container: dict[str, Any]) -> str:
    workload = (k8s_group_kind(resource_type) or ("", resource_type))[1]
    return f"{workload} '{display_name(props, name)}' {kind} '{container.get('name') or '?'}'"


# --------------------------------------------------------------------------- containers


def check_container_resources(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    spec = pod_spec(resource_type, props)
    if spec is None:
        return
    for kind, container in containers(spec):
        resources = container.get("resources")
        if resources is UNKNOWN:
            continue
        missing = []
        for section in ("requests", "limits"):
            values = dig(resources, section)
            if values is UNKNOWN:
                continue
            for quantity in config["requiredResources"]:
                value = dig(values, quantity)
                if value is not UNKNOWN and (value is None or value == ""):
                    missing.append(f"{section}.{quantity}")
        if missing:
            yield (
                f"{_where(resource_type, props, name, kind, container)} has no {', '.join(missing)}; set "
                "resources.requests and resources.limits (apps.<name>.resources in the stack config)."
            )


def check_container_probes(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    spec = pod_spec(resource_type, props)
    if spec is None:
        return
    for kind, container in containers(spec, init=False):
        if not as_list(container.get("ports")):
            continue
        missing = [
            probe
            for probe in ("livenessProbe", "readinessProbe")
            if container.get(probe) is not UNKNOWN and not isinstance(container.get(probe), dict)
        ]
        if missing:
            yield (
                f"{_where(resource_type, props, name, kind, container)} exposes ports but has no "
                f"{' or '.join(missing)}; add HTTP probes on its health endpoints (apps.<name>.probes)."
            )


def _effective(container: dict[str, Any], pod: dict[str, Any], *path: str) -> Any:
    value = dig(container, "securityContext", *path)
    return value if value is not None else dig(pod, "securityContext", *path)


def check_restricted_security_context(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    spec = pod_spec(resource_type, props)
    if spec is None:
        return
    workload = f"{(k8s_group_kind(resource_type) or ('', resource_type))[1]} '{display_name(props, name)}'"
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host) is True:
            yield f"{workload}: {host} is true; remove it (the restricted Pod Security profile forbids it)."
    allowed_caps = set(config["allowedAddedCapabilities"])
    for kind, container in containers(spec):
        where = _where(resource_type, props, name, kind, container)
        problems: list[str] = []
        non_root = _effective(container, spec, "runAsNonRoot")
        if non_root is not True and non_root is not UNKNOWN:
            problems.append("runAsNonRoot: true")
        run_as_user = _effective(container, spec, "runAsUser")
        if run_as_user == 0:
            problems.append("runAsUser other than 0")
        if dig(container, "securityContext", "allowPrivilegeEscalation") not in (False, UNKNOWN):
            problems.append("allowPrivilegeEscalation: false")
        if dig(container, "securityContext", "privileged") is True:
            problems.append("privileged: false")
        if dig(container, "securityContext", "readOnlyRootFilesystem") not in (True, UNKNOWN):
            problems.append("readOnlyRootFilesystem: true (mount emptyDir volumes for scratch paths)")
        drop = dig(container, "securityContext", "capabilities", "drop")
        if drop is not UNKNOWN and "ALL" not in [str(c).upper() for c in as_list(drop)]:
            problems.append("capabilities.drop: [ALL]")
        added = dig(container, "securityContext", "capabilities", "add")
        extra = sorted({str(c) for c in as_list(added)} - allowed_caps)
        if extra:
            problems.append(f"no capabilities.add beyond {sorted(allowed_caps)} (found {extra})")
        seccomp = _effective(container, spec, "seccompProfile", "type")
        if seccomp is not UNKNOWN and seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append("seccompProfile.type: RuntimeDefault")
        if problems:
            yield f"{where} must run with a restricted security context: set {'; '.join(problems)}."


def parse_image(image: str) -> tuple[str, str | None, str | None]:
    """'reg/path:tag@sha256:d' -> ('reg/path', 'tag', 'sha256:d')."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
    else:
        repository = image
    return repository, tag, digest


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned to a release, or None when it is (digest or explicit non-latest tag)."""
    if image is UNKNOWN:
        return None
    if not isinstance(image, str) or not image:
        return "has no image"
    _, tag, digest = parse_image(image)
    if digest:
        return None
    if tag is None:
        return f"image '{image}' has no tag (it means :latest)"
    if tag.lower() == "latest":
        return f"image '{image}' uses the mutable tag 'latest'"
    return None


def check_allowed_images(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    spec = pod_spec(resource_type, props)
    if spec is None:
        return
    allowed = config["allowedRegistries"]
    for kind, container in containers(spec):
        image = container.get("image")
        where = _where(resource_type, props, name, kind, container)
        problem = image_problem(image)
        if problem:
            yield f"{where}: {problem}; pin an explicit release tag (colors.<color>.tag) or a digest."
        if isinstance(image, str) and image and not matches_prefix(image, allowed):
            yield (
                f"{where}: image '{image}' is not from an allowed registry ({', '.join(allowed)}); push it to one "
                "of them (registry.server) or add the registry to allowedRegistries."
            )


# --------------------------------------------------------------------------- namespaces, ConfigMaps


def is_app_namespace(namespace: Any, prefixes: Iterable[str]) -> bool:
    return isinstance(namespace, str) and any(namespace.startswith(p) for p in prefixes)


def check_app_namespace_pod_security(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    namespace = dig(props, "metadata", "name")
    if not is_app_namespace(namespace, config["appNamespacePrefixes"]):
        return
    labels = dig(props, "metadata", "labels")
    if labels is UNKNOWN:
        return
    enforce = as_dict(labels).get("pod-security.kubernetes.io/enforce")
    if enforce not in ("restricted", UNKNOWN):
        state = "has no Pod Security enforce label" if enforce is None else f"enforces Pod Security {enforce!r}"
        yield f"Namespace '{namespace}' {state}; label it pod-security.kubernetes.io/enforce: restricted."


SECRET_KEY = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|APIKEY|CREDENTIAL", re.IGNORECASE)
PUBLIC_KEY = re.compile(r"^NEXT_PUBLIC_|PUBLISHABLE", re.IGNORECASE)
# Values that are secrets whatever the key says.
SECRET_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]+"), "a Stripe secret key"),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), "a webhook signing secret"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|-----BEGIN [A-Z ]+-----"), "a PEM block"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE), "a URL with embedded credentials"),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), "a SendGrid API key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+"), "a JWT"),
)
HEX_BLOB = re.compile(r"^[0-9a-fA-F]{32,}$")
BASE64_BLOB = re.compile(r"^[A-Za-z0-9+/_-]{40,}={0,2}$")


def secret_value_kind(value: str, *, public_key: bool) -> str | None:
    for pattern, kind in SECRET_VALUES:
        if pattern.search(value):
            return kind
    if public_key:
        return None
    if HEX_BLOB.match(value):
        return "a long hex string"
    if BASE64_BLOB.match(value) and re.search(r"\d", value) and re.search(r"[A-Za-z]", value):
        return "a long base64 string"
    return None


def check_configmap_no_secrets(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    data = props.get("data")
    if data is UNKNOWN:
        return
    config_map = display_name(props, name)
    for key, value in sorted(as_dict(data).items()):
        public = bool(PUBLIC_KEY.search(key))
        if SECRET_KEY.search(key) and not public:
            yield (
                f"ConfigMap '{config_map}' key '{key}' names a secret; move it to Key Vault and read it through the "
                "ExternalSecret (Secret broxiva-secrets)."
            )
            continue
        if isinstance(value, str):
            kind = secret_value_kind(value, public_key=public)
            if kind:
                yield (
                    f"ConfigMap '{config_map}' key '{key}' holds what looks like {kind}; move the value to Key Vault "
                    "and read it through the ExternalSecret."
                )


# --------------------------------------------------------------------------- Helm


def check_helm_version(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    version = props.get("version")
    if version is UNKNOWN:
        return
    chart = props.get("chart") or name
    if not isinstance(version, str) or not version.strip():
        yield f"Helm chart '{chart}' has no version; pin version= to an exact chart version (e.g. 1.21.2)."
    elif not SEMVER.match(version.strip()):
        yield f"Helm chart '{chart}' version {version!r} is not an exact version; pin an exact semver, not a range."


def chart_source(props: dict[str, Any]) -> Any:
    """Where a chart comes from: its oci:// or http(s) reference, else repositoryOpts.repo, else None."""
    chart = props.get("chart")
    if isinstance(chart, str) and re.match(r"^(oci|https?)://", chart):
        return chart
    repo = dig(props, "repositoryOpts", "repo")
    return repo if repo else None


def check_helm_repository(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    source = chart_source(props)
    if source is UNKNOWN or props.get("chart") is UNKNOWN:
        return
    allowed = config["allowedChartRepositories"]
    chart = props.get("chart") or name
    if not isinstance(source, str):
        yield (
            f"Helm chart '{chart}' names no repository; set repository_opts.repo (or an oci:// chart) from "
            f"{', '.join(allowed)}."
        )
    elif not matches_prefix(source, allowed):
        yield (
            f"Helm chart '{chart}' comes from {source!r}, not an allowed repository ({', '.join(allowed)}); use the "
            "chart's official repository or add it to allowedChartRepositories."
        )


POLICIES = [
    resource_policy(
        name="k8s-container-resources",
        description="Every container declares CPU and memory requests and limits.",
        check=check_container_resources,
        resource_types=WORKLOAD_TYPES,
        severity=Severity.MEDIUM,
        remediation="Set resources.requests and resources.limits (cpu and memory) on every container.",
        settings=[string_list("requiredResources", ["cpu", "memory"], "Quantities every request and limit sets.")],
    ),
    resource_policy(
        name="k8s-container-probes",
        description="Containers that expose ports have liveness and readiness probes.",
        check=check_container_probes,
        resource_types=WORKLOAD_TYPES,
        severity=Severity.MEDIUM,
        remediation="Add livenessProbe and readinessProbe (apps.<name>.probes) to containers with ports.",
    ),
    resource_policy(
        name="k8s-restricted-security-context",
        description="Pods run with the restricted Pod Security profile: non-root, no privilege escalation, "
        "read-only root filesystem, all capabilities dropped, RuntimeDefault seccomp, no host namespaces.",
        check=check_restricted_security_context,
        resource_types=WORKLOAD_TYPES,
        severity=Severity.HIGH,
        remediation="Use the pod and container securityContext of components/apps/workload_spec.py.",
        settings=[
            string_list(
                "allowedAddedCapabilities",
                ["NET_BIND_SERVICE"],
                "Capabilities a container may add (the restricted profile allows NET_BIND_SERVICE only).",
            )
        ],
    ),
    resource_policy(
        name="k8s-allowed-images",
        description="Container images come from the allowed registries and are pinned to a release tag or "
        "digest, never latest or untagged.",
        check=check_allowed_images,
        resource_types=WORKLOAD_TYPES,
        severity=Severity.HIGH,
        remediation="Pull images from registry.server with an explicit colors.<color>.tag.",
        settings=[
            string_list(
                "allowedRegistries",
                ["ghcr.io/broxiva/", "broxivaprodacr.azurecr.io/"],
                "Allowed image prefixes; an entry ending in '/' matches every image under it.",
            )
        ],
    ),
    resource_policy(
        name="k8s-app-namespace-pod-security",
        description="App namespaces enforce the restricted Pod Security Standard.",
        check=check_app_namespace_pod_security,
        resource_types=[NAMESPACE],
        severity=Severity.HIGH,
        remediation="Label the namespace pod-security.kubernetes.io/enforce: restricted.",
        settings=[APP_NAMESPACE_PREFIXES],
    ),
    resource_policy(
        name="k8s-configmap-no-secrets",
        description="ConfigMaps hold no secrets: no secret-named keys (except NEXT_PUBLIC_* and publishable "
        "keys) and no secret-looking values.",
        check=check_configmap_no_secrets,
        resource_types=[CONFIG_MAP],
        severity=Severity.CRITICAL,
        remediation="Store secrets in Key Vault; the ExternalSecret syncs them into Secret broxiva-secrets.",
    ),
    resource_policy(
        name="helm-chart-pinned-version",
        description="Helm releases pin an exact chart version (semver, no ranges).",
        check=check_helm_version,
        resource_types=[HELM_RELEASE, HELM_CHART_V4],
        severity=Severity.HIGH,
        remediation="Pin the chart version in components/k8s/charts.py.",
    ),
    resource_policy(
        name="helm-chart-allowed-repository",
        description="Helm charts come from the allowed repositories.",
        check=check_helm_repository,
        resource_types=[HELM_RELEASE, HELM_CHART_V4],
        severity=Severity.HIGH,
        remediation="Install charts from their official repositories listed in allowedChartRepositories.",
        settings=[
            string_list(
                "allowedChartRepositories",
                ["https://charts.external-secrets.io", "https://charts.jetstack.io", "oci://docker.io/envoyproxy/"],
                "Allowed chart repositories; an entry ending in '/' matches every chart under it.",
            )
        ],
    ),
]
