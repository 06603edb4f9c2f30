"""Stack rules: references between resources that no single resource can check.

A stack policy sees each resource's outputs (pulumi ``pkg/resource/deploy/step_generator.go``, AnalyzeStack),
never its inputs: only properties the resource class declares as outputs are read. azure-native's path
parameters (``secretName``, ``vaultName``, ``relativeRecordSetName``...) are inputs only: a Key Vault secret is
known by its ``name`` and ``id``, a record set by its ``name``, a public IP by its ``ipAddress``. In a preview
of new resources those are unknown, and a Kubernetes object whose cluster does not exist yet has no outputs
at all: every check skips what it cannot know instead of reporting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .azure import PUBLIC_IP, RECORD_SET
from .common import (
    UNKNOWN,
    StackResource,
    as_dict,
    as_list,
    dig,
    k8s_group_kind,
    stack_policy,
    text,
)
from .kubernetes import APP_NAMESPACE_PREFIXES, image_problem, is_app_namespace, pod_spec

KEY_VAULT_SECRET = "azure-native:keyvault:Secret"
Finding = tuple[str, str | None]


def of_kind(resources: list[StackResource], group: str, kind: str) -> list[StackResource]:
    return [r for r in resources if k8s_group_kind(r.resource_type) == (group, kind)]


def namespace_of(resource: StackResource) -> Any:
    namespace = dig(resource.props, "metadata", "namespace")
    return "default" if namespace is None or namespace == "" else namespace


def name_of(resource: StackResource) -> Any:
    return dig(resource.props, "metadata", "name")


def _known(*values: Any) -> bool:
    return all(v is not UNKNOWN for v in values)


def not_known_yet(resource: StackResource) -> bool:
    """A Kubernetes object with no outputs at all: its provider previews it without a cluster to ask
    (pulumi-kubernetes answers a preview with empty outputs while its kubeconfig is unknown)."""
    return k8s_group_kind(resource.resource_type) is not None and not resource.props


def any_not_known_yet(resources: Iterable[StackResource]) -> bool:
    """Some candidate of a lookup is not known yet: it may be the one looked for."""
    return any(not_known_yet(r) for r in resources)


# --------------------------------------------------------------------------- blue/green


def _hpas_for(resources: list[StackResource], kind: str, namespace: str, name: str) -> list[StackResource]:
    return [
        hpa
        for hpa in of_kind(resources, "autoscaling", "HorizontalPodAutoscaler")
        if namespace_of(hpa) == namespace
        and dig(hpa.props, "spec", "scaleTargetRef", "kind") == kind
        and dig(hpa.props, "spec", "scaleTargetRef", "name") == name
    ]


def _serves_traffic(resources: list[StackResource], deployment: StackResource) -> bool:
    replicas = dig(deployment.props, "spec", "replicas")
    if replicas is UNKNOWN or replicas is None:  # unset means 1 (or the HPA's count)
        return True
    if isinstance(replicas, int | float) and replicas >= 1:
        return True
    for hpa in _hpas_for(resources, "Deployment", namespace_of(deployment), name_of(deployment)):
        low = dig(hpa.props, "spec", "minReplicas", default=1)
        if low is UNKNOWN or (isinstance(low, int | float) and low >= 1):
            return True
    return False


def check_blue_green(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    deployments = of_kind(resources, "apps", "Deployment")
    color_label = config["colorLabel"]
    for service in of_kind(resources, "core", "Service"):
        labels = as_dict(dig(service.props, "metadata", "labels"))
        if labels.get(config["roleLabel"]) != config["stableRole"]:
            continue
        selector = dig(service.props, "spec", "selector")
        namespace, service_name = namespace_of(service), name_of(service)
        if not _known(selector, namespace, service_name) or any(v is UNKNOWN for v in as_dict(selector).values()):
            continue
        selector = as_dict(selector)
        where = f"Stable Service '{namespace}/{service_name}'"
        color = selector.get(color_label)
        if not color:
            yield (
                f"{where} selects no {color_label} (selector {selector}); select exactly one release color so "
                "the switch is a selector change (activeColor).",
                service.urn,
            )
            continue
        matching = []
        for deployment in deployments:
            template = dig(deployment.props, "spec", "template", "metadata", "labels")
            if namespace_of(deployment) != namespace or not isinstance(template, dict):
                continue
            if all(template.get(k) == v for k, v in selector.items()):
                matching.append(deployment)
        if not matching and any_not_known_yet(deployments):
            continue
        if not matching:
            yield (
                f"{where} selects {color_label}={color} but no Deployment in '{namespace}' runs pods labelled "
                f"{selector}; deploy that color first (colors.{color}.tag, running: true), then set activeColor.",
                service.urn,
            )
            continue
        if not any(_serves_traffic(resources, d) for d in matching):
            names = ", ".join(str(name_of(d)) for d in matching)
            yield (
                f"{where} selects {color_label}={color} but its Deployment ({names}) is scaled to zero without an "
                f"HPA; set colors.{color}.running: true and let it become ready before switching activeColor.",
                service.urn,
            )
        for deployment in matching:
            spec = pod_spec(deployment.resource_type, deployment.props) or {}
            for container in as_list(spec.get("containers")):
                problem = image_problem(as_dict(container).get("image"))
                if problem:
                    yield (
                        f"{where} sends traffic to Deployment '{name_of(deployment)}' whose {problem}; release a "
                        "tagged image (colors.<color>.tag) before switching to it.",
                        deployment.urn,
                    )


# --------------------------------------------------------------------------- secrets, certificates, routes


def _vault_of_url(url: Any) -> str | None:
    match = re.match(r"^https://([^./]+)\.vault\.", url) if isinstance(url, str) else None
    return match.group(1).lower() if match else None


def _vault_secrets(resources: list[StackResource]) -> list[tuple[Any, Any]]:
    """(vault name, secret name) of every Key Vault secret the stack declares, from the outputs ``name`` and
    ``id`` (``.../vaults/<vault>/secrets/<name>``); UNKNOWN where not known yet, None where not found."""
    out: list[tuple[Any, Any]] = []
    for secret in resources:
        if secret.resource_type != KEY_VAULT_SECRET:
            continue
        name, rid = secret.props.get("name"), secret.props.get("id")
        vault: Any = None
        if rid is UNKNOWN:
            vault = UNKNOWN
        elif isinstance(rid, str):
            match = re.search(r"/vaults/([^/]+)/", rid)
            vault = match.group(1).lower() if match else None
        out.append((vault, name if name is UNKNOWN or isinstance(name, str) else None))
    return out


def _store(resources: list[StackResource], external_secret: StackResource) -> StackResource | None:
    ref = as_dict(dig(external_secret.props, "spec", "secretStoreRef"))
    kind = ref.get("kind") or "SecretStore"
    for store in of_kind(resources, "external-secrets.io", kind):
        if name_of(store) == ref.get("name") and (
            kind == "ClusterSecretStore" or namespace_of(store) == namespace_of(external_secret)
        ):
            return store
    return None


def _remote_keys(external_secret: StackResource) -> list[Any]:
    spec = as_dict(dig(external_secret.props, "spec"))
    keys = [dig(item, "remoteRef", "key") for item in as_list(spec.get("data"))]
    keys += [dig(item, "extract", "key") for item in as_list(spec.get("dataFrom")) if dig(item, "extract")]
    return keys


def check_external_secret_keys(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    secrets = _vault_secrets(resources)
    for external_secret in of_kind(resources, "external-secrets.io", "ExternalSecret"):
        store = _store(resources, external_secret)
        vault = None
        if store is not None:
            provider = as_dict(dig(store.props, "spec", "provider"))
            if provider and "azurekv" not in provider:
                continue  # another backend: not this stack's Key Vault
            vault = _vault_of_url(dig(provider, "azurekv", "vaultUrl"))
        in_vault = [name for (secret_vault, name) in secrets if vault is None or secret_vault in (None, UNKNOWN, vault)]
        if any(name is UNKNOWN for name in in_vault):
            continue  # secrets still being created (a preview): their names are not known yet
        known = {name for name in in_vault if isinstance(name, str)}
        where = f"ExternalSecret '{namespace_of(external_secret)}/{name_of(external_secret)}'"
        for key in _remote_keys(external_secret):
            if key is UNKNOWN or not isinstance(key, str):
                continue
            object_type, _, short = key.partition("/") if "/" in key else ("secret", "", key)
            if object_type != "secret":
                continue
            if short not in known:
                yield (
                    f"{where} reads Key Vault secret '{short}' that the stack does not declare"
                    f"{f' in vault {vault!r}' if vault else ''}; add it to the vault (components/config/secrets.py "
                    "or providedSecrets) or drop the reference.",
                    external_secret.urn,
                )


def check_certificate_issuers(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    for certificate in of_kind(resources, "cert-manager.io", "Certificate"):
        ref = dig(certificate.props, "spec", "issuerRef")
        if ref is UNKNOWN or not_known_yet(certificate):
            continue
        ref = as_dict(ref)
        group, kind, issuer = ref.get("group") or "cert-manager.io", ref.get("kind") or "Issuer", ref.get("name")
        if group != "cert-manager.io" or not _known(issuer, kind):
            continue
        namespace = namespace_of(certificate)
        candidates = [
            i
            for i in of_kind(resources, "cert-manager.io", kind)
            if kind == "ClusterIssuer" or namespace_of(i) == namespace
        ]
        if not any(name_of(i) == issuer for i in candidates) and not any_not_known_yet(candidates):
            existing = sorted(str(name_of(i)) for i in of_kind(resources, "cert-manager.io", kind))
            yield (
                f"Certificate '{namespace}/{name_of(certificate)}' uses {kind} '{issuer}' which the stack does not "
                f"declare (declared: {', '.join(existing) or 'none'}); set tls.issuer to one of them.",
                certificate.urn,
            )


def check_route_backends(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    if any_not_known_yet(of_kind(resources, "core", "Service")):
        return
    services = {(namespace_of(s), name_of(s)) for s in of_kind(resources, "core", "Service")}
    routes = of_kind(resources, "gateway.networking.k8s.io", "HTTPRoute")
    routes += of_kind(resources, "gateway.networking.k8s.io", "GRPCRoute")
    for route in routes:
        namespace = namespace_of(route)
        for rule in as_list(dig(route.props, "spec", "rules")):
            for ref in as_list(dig(rule, "backendRefs")):
                ref = as_dict(ref)
                if (ref.get("group") or "") != "" or (ref.get("kind") or "Service") != "Service":
                    continue
                target_ns = ref.get("namespace") or namespace
                if not _known(ref.get("name"), target_ns, namespace):
                    continue
                if (target_ns, ref.get("name")) not in services:
                    yield (
                        f"{route.resource_type.rsplit(':', 1)[-1]} '{namespace}/{name_of(route)}' sends traffic to "
                        f"Service '{target_ns}/{ref.get('name')}' which the stack does not declare; point backendRefs "
                        "at the app's per-color Services (<app>-blue, <app>-green).",
                        route.urn,
                    )


def _selected(resources: list[StackResource], service: StackResource) -> list[StackResource] | None:
    """The Deployments a Service selects; None while that is not known yet."""
    selector = dig(service.props, "spec", "selector")
    if not _known(selector) or any(v is UNKNOWN for v in as_dict(selector).values()) or not selector:
        return None
    deployments = of_kind(resources, "apps", "Deployment")
    if any_not_known_yet(deployments):
        return None
    found = []
    for deployment in deployments:
        template = dig(deployment.props, "spec", "template", "metadata", "labels")
        if (
            namespace_of(deployment) == namespace_of(service)
            and isinstance(template, dict)
            and all(template.get(k) == v for k, v in as_dict(selector).items())
        ):
            found.append(deployment)
    return found


def check_route_weights(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    services = {(namespace_of(s), name_of(s)): s for s in of_kind(resources, "core", "Service")}
    for route in of_kind(resources, "gateway.networking.k8s.io", "HTTPRoute"):
        namespace = namespace_of(route)
        for rule in as_list(dig(route.props, "spec", "rules")):
            for ref in as_list(dig(rule, "backendRefs")):
                ref = as_dict(ref)
                weight = ref.get("weight", 1)
                if not isinstance(weight, int | float) or weight <= 0:
                    continue
                service = services.get((ref.get("namespace") or namespace, ref.get("name")))
                selected = _selected(resources, service) if service is not None else None
                if selected is None:
                    continue  # a missing Service is httproute-backends-exist's
                if not any(_serves_traffic(resources, d) for d in selected):
                    yield (
                        f"HTTPRoute '{namespace}/{name_of(route)}' sends weight {weight} to Service "
                        f"'{ref.get('name')}', whose pods no running Deployment provides; run that color "
                        "(colors.<color>.running: true) or give it no weight (activeColor, canaryWeight).",
                        route.urn,
                    )


def check_hpa(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    for hpa in of_kind(resources, "autoscaling", "HorizontalPodAutoscaler"):
        spec = dig(hpa.props, "spec")
        if spec is UNKNOWN or not_known_yet(hpa):
            continue
        spec = as_dict(spec)
        where = f"HorizontalPodAutoscaler '{namespace_of(hpa)}/{name_of(hpa)}'"
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if _known(low, high):
            if not isinstance(high, int | float) or not isinstance(low, int | float):
                yield f"{where} needs integer minReplicas and maxReplicas; set apps.<name>.autoscaling.", hpa.urn
            elif low < 1 or low > high:
                yield (
                    f"{where} has minReplicas {low} and maxReplicas {high}; set 1 <= minReplicas <= maxReplicas "
                    "(apps.<name>.autoscaling).",
                    hpa.urn,
                )
        target = as_dict(spec.get("scaleTargetRef"))
        api_version, kind, name = target.get("apiVersion"), target.get("kind"), target.get("name")
        if not _known(api_version, kind, name):
            continue
        group = str(api_version).split("/", 1)[0] if "/" in str(api_version or "") else "core"
        if not isinstance(kind, str) or (group, kind) not in {
            ("apps", "Deployment"),
            ("apps", "StatefulSet"),
            ("apps", "ReplicaSet"),
        }:
            continue
        workloads = of_kind(resources, group, kind)
        if not any_not_known_yet(workloads) and not any(
            namespace_of(w) == namespace_of(hpa) and name_of(w) == name for w in workloads
        ):
            yield (
                f"{where} scales {kind} '{name}' which the stack does not declare in '{namespace_of(hpa)}'; point "
                "scaleTargetRef at the release's Deployment.",
                hpa.urn,
            )


# --------------------------------------------------------------------------- DNS and namespaces


def check_a_records(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    addresses = [r.props.get("ipAddress") for r in resources if r.resource_type == PUBLIC_IP]
    if any(a is UNKNOWN for a in addresses):
        return
    owned = {a for a in addresses if isinstance(a, str) and a}
    if not owned:
        return  # nothing known to compare with (no public IP, or not allocated yet)
    for record in resources:
        if record.resource_type != RECORD_SET:
            continue
        relative = record.props.get("name")
        relative = relative if isinstance(relative, str) and relative else record.name
        for entry in as_list(record.props.get("aRecords")):
            address = dig(entry, "ipv4Address")
            if address is UNKNOWN or address is None:
                continue
            if address not in owned:
                yield (
                    f"A record '{relative}' points at {address}, which is not a public IP of this stack "
                    f"({', '.join(sorted(owned))}); point it at the stack's gateway IP.",
                    record.urn,
                )


def _is_default_deny(policy: StackResource) -> bool:
    spec = as_dict(dig(policy.props, "spec"))
    selector = spec.get("podSelector")
    if selector is UNKNOWN or any(as_dict(selector).get(k) for k in ("matchLabels", "matchExpressions")):
        return False
    types = {str(t) for t in as_list(spec.get("policyTypes"))}
    return {"Ingress", "Egress"} <= types and not as_list(spec.get("ingress")) and not as_list(spec.get("egress"))


def check_default_deny(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    policies = of_kind(resources, "networking.k8s.io", "NetworkPolicy")
    if any_not_known_yet(policies) or any(namespace_of(p) is UNKNOWN for p in policies):
        return  # a policy whose namespace is not known yet may be the one
    for namespace in of_kind(resources, "core", "Namespace"):
        ns_name = name_of(namespace)
        if not is_app_namespace(ns_name, config["appNamespacePrefixes"]):
            continue
        if not any(namespace_of(p) == ns_name and _is_default_deny(p) for p in policies):
            yield (
                f"Namespace '{ns_name}' has no default-deny NetworkPolicy; add one with podSelector {{}}, "
                "policyTypes [Ingress, Egress] and no rules, then allow only the traffic each app needs.",
                namespace.urn,
            )


POLICIES = [
    stack_policy(
        name="blue-green-switch-safe",
        description="Every stable Service selects one release color whose Deployment exists, runs (replicas >= 1 "
        "or an HPA) and uses a tagged image.",
        check=check_blue_green,
        severity=Severity.CRITICAL,
        remediation="Deploy and start the color (colors.<color>.tag, running: true) before pointing activeColor at it.",
        settings=[
            text("roleLabel", "broxiva.com/role", "Label that marks a Service's role."),
            text("stableRole", "stable", "Role label value of the Services users reach."),
            text("colorLabel", "color", "Pod label carrying the release color."),
        ],
    ),
    stack_policy(
        name="external-secret-keys-exist",
        description="Every Key Vault secret an ExternalSecret reads is declared in the stack.",
        check=check_external_secret_keys,
        severity=Severity.HIGH,
        remediation="Declare the secret in the vault (secret catalog or providedSecrets) or drop the reference.",
    ),
    stack_policy(
        name="certificate-issuer-exists",
        description="Every cert-manager Certificate references an issuer declared in the stack.",
        check=check_certificate_issuers,
        severity=Severity.HIGH,
        remediation="Set tls.issuer to a ClusterIssuer the stack declares.",
    ),
    stack_policy(
        name="httproute-backends-exist",
        description="Every HTTPRoute backendRef names a Service declared in the stack in that namespace.",
        check=check_route_backends,
        severity=Severity.HIGH,
        remediation="Point backendRefs at the app's per-color Services (<app>-blue, <app>-green).",
    ),
    stack_policy(
        name="route-weights-on-running-colors",
        description="Every HTTPRoute backend with a weight above 0 selects pods of a Deployment that runs "
        "(replicas >= 1 or an HPA).",
        check=check_route_weights,
        severity=Severity.CRITICAL,
        remediation="Run the color before giving it traffic (colors.<color>.running), or set its weight to 0.",
    ),
    stack_policy(
        name="hpa-consistent",
        description="HorizontalPodAutoscalers have 1 <= minReplicas <= maxReplicas and target a workload the "
        "stack declares.",
        check=check_hpa,
        severity=Severity.MEDIUM,
        remediation="Fix apps.<name>.autoscaling and the HPA's scaleTargetRef.",
    ),
    stack_policy(
        name="dns-a-records-own-ip",
        description="DNS A records point only at public IP addresses this stack owns.",
        check=check_a_records,
        severity=Severity.HIGH,
        remediation="Point A records at the stack's gateway IP (the PublicIPAddress the stack declares).",
    ),
    stack_policy(
        name="app-namespace-default-deny",
        description="Every app namespace has a default-deny NetworkPolicy (podSelector {}, Ingress and Egress).",
        check=check_default_deny,
        severity=Severity.HIGH,
        remediation="Add a NetworkPolicy with podSelector {}, policyTypes [Ingress, Egress] and no rules.",
        settings=[APP_NAMESPACE_PREFIXES],
    ),
]
