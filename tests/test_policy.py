"""The policy pack (policy/): every stack passes it, and each rule fires, alone, when one value changes.

Each violating case starts from a real stack: either a config change through ``run_program`` (stack config
or the policy's own config), or a copy of the recorded plan with exactly one resource changed where the
program's config validation would refuse the change. The pack's policies run through policy/testing.py,
which builds the engine's ResourceValidationArgs / StackValidationArgs from the recorded graph.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResourceOptions,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy import rules as rule_package
from policy.rules import POLICIES
from policy.rules.azure import UNTAGGABLE_TYPES
from policy.testing import evaluate, inputs_of, outputs_of, policy_config, resource_args, violated
from tests.conftest import OTHER_PROJECT_STACKS, PROJECT_DIR, STACKS
from tools.plan import engine
from tools.plan.shapes import output_names
from tools.pulumi_sdk import PolicyAnalyzerServicer as _PolicyAnalyzerServicer
from tools.pulumi_sdk import proto

POLICY_DIR = PROJECT_DIR / "policy"
MANDATORY = EnforcementLevel.MANDATORY

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
WORKSPACE = "azure-native:operationalinsights:Workspace"
RECORD = "azure-native:dns:RecordSet"
KV_SECRET = "azure-native:keyvault:Secret"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
PG_SERVER = "azure-native:dbforpostgresql:Server"
PG_CONFIG = "azure-native:dbforpostgresql:Configuration"
REDIS = "azure-native:redisenterprise:RedisEnterprise"
REDIS_DB = "azure-native:redisenterprise:Database"
STORAGE = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HELM = "kubernetes:helm.sh/v3:Release"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
SECRET_STORE = "kubernetes:external-secrets.io/v1:SecretStore"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
PROM_RULES = "azure-native:alertsmanagement:PrometheusRuleGroup"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
SERVICE_MONITOR = "kubernetes:azmonitoring.coreos.com/v1:ServiceMonitor"

OWNER = "8e3af657-a8ff-443c-a75e-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7126f08cd"
USER_ACCESS_ADMIN = "18d7d88d-d35c-4d20-a5c3-56ed7d7d0c49"

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
CONTAINER = "spec.template.spec.containers[0]"
SECURITY = f"{CONTAINER}.securityContext"


def _show(violations) -> str:
    return "\n".join(f"{v.policy_name} [{v.enforcement_level.value}] {v.urn}: {v.message}" for v in violations)


# --------------------------------------------------------------------------- editing a recorded plan

DELETE = object()


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


@dataclass(frozen=True)
class Edit:
    """Change one input of one recorded resource; DELETE removes it. Where the provider answers that input
    back as an output (the recorded outputs hold the same path), the output changes with it.

    ``path`` is dotted with [i] for list items, or a tuple of steps for keys that contain dots.
    """

    typ: str
    name: str
    path: str | tuple[str | int, ...]
    value: Any

    def __call__(self, plan: engine.Plan) -> str:
        resource = plan.one(self.typ, self.name)
        *parents, last = _steps(self.path) if isinstance(self.path, str) else list(self.path)
        for side in ("inputs", "outputs"):
            target = resource.get(side)
            try:
                for step in parents:
                    target = target[step]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                assert side == "outputs", f"{self.typ} {self.name} has no input {self.path}"
                continue
            if self.value is DELETE:
                if side == "inputs" or last in target:  # type: ignore[operator]
                    del target[last]  # type: ignore[index]
            elif side == "inputs" or parents or last in target or last in (output_names(self.typ) or ()):  # type: ignore[operator]
                target[last] = self.value  # type: ignore[index]
        return resource["urn"]


@dataclass(frozen=True)
class Protect:
    """Change the protect option of one recorded resource."""

    typ: str
    name: str
    value: bool

    def __call__(self, plan: engine.Plan) -> str:
        resource = plan.one(self.typ, self.name)
        resource["protect"] = self.value
        return resource["urn"]


@dataclass(frozen=True)
class Drop:
    """Remove one recorded resource (as if the program no longer declared it); the violation is reported on
    ``reported`` (type, name)."""

    typ: str
    name: str
    reported: tuple[str, str]

    def __call__(self, plan: engine.Plan) -> str:
        plan.resources.remove(plan.one(self.typ, self.name))
        return plan.one(*self.reported)["urn"]


@dataclass(frozen=True)
class Case:
    id: str
    policy: str
    stack: str
    fragment: str
    sets: dict[str, str] = field(default_factory=dict)
    change: Callable[[engine.Plan], str] | None = None
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    at_changed: bool = True
    """The violations are reported on the changed resource."""


CASES: list[Case] = [
    # ---------------------------------------------------------------- AKS
    Case(
        "local-accounts",
        "aks-entra-id-rbac",
        "prod",
        "disable_local_accounts=True",
        change=Edit(CLUSTER, "cluster-aks", "disableLocalAccounts", False),
    ),
    Case(
        "no-azure-rbac",
        "aks-entra-id-rbac",
        "dev",
        "enable_azure_rbac=True",
        change=Edit(CLUSTER, "cluster-aks", "aadProfile.enableAzureRBAC", False),
    ),
    Case(
        "no-aad",
        "aks-entra-id-rbac",
        "staging",
        "has no aadProfile",
        change=Edit(CLUSTER, "cluster-aks", "aadProfile", DELETE),
    ),
    Case(
        "no-oidc-issuer",
        "aks-workload-identity",
        "staging",
        "oidcIssuerProfile.enabled",
        change=Edit(CLUSTER, "cluster-aks", "oidcIssuerProfile.enabled", False),
    ),
    Case(
        "no-workload-identity",
        "aks-workload-identity",
        "prod",
        "workload_identity.enabled=True",
        change=Edit(CLUSTER, "cluster-aks", "securityProfile.workloadIdentity", DELETE),
    ),
    Case(
        "network-policy-none",
        "aks-network-policy",
        "dev",
        "networkPolicy is 'none'",
        change=Edit(CLUSTER, "cluster-aks", "networkProfile.networkPolicy", "none"),
    ),
    Case(
        "network-policy-unset",
        "aks-network-policy",
        "prod",
        "networkPolicy is None",
        change=Edit(CLUSTER, "cluster-aks", "networkProfile.networkPolicy", DELETE),
    ),
    Case(
        "omsagent-off",
        "aks-monitoring",
        "prod",
        "omsagent add-on (Container Insights) is disabled",
        change=Edit(CLUSTER, "cluster-aks", "addonProfiles.omsagent.enabled", False),
    ),
    Case(
        "omsagent-missing",
        "aks-monitoring",
        "dev",
        "is missing",
        change=Edit(CLUSTER, "cluster-aks", "addonProfiles", {}),
    ),
    Case(
        "system-pool-min-0",
        "aks-node-pool-autoscaling",
        "prod",
        "minCount 0 is below 1 for a System pool",
        change=Edit(CLUSTER, "cluster-aks", "agentPoolProfiles[0].minCount", 0),
    ),
    Case(
        "pool-min-above-max",
        "aks-node-pool-autoscaling",
        "dev",
        "minCount 7 is above maxCount 4",
        change=Edit(AGENT_POOL, "cluster-workload-pool", "minCount", 7),
    ),
    Case(
        "pool-max-above-1000",
        "aks-node-pool-autoscaling",
        "staging",
        "maxCount 1001 is above 1000",
        change=Edit(AGENT_POOL, "cluster-workload-pool", "maxCount", 1001),
    ),
    Case(
        "pool-no-autoscaling",
        "aks-node-pool-autoscaling",
        "prod",
        "enable_auto_scaling=True",
        change=Edit(AGENT_POOL, "cluster-workload-pool", "enableAutoScaling", False),
    ),
    Case(
        "prod-free-tier",
        "aks-production-resilience",
        "prod",
        "sku.tier is 'Free'",
        change=Edit(CLUSTER, "cluster-aks", "sku.tier", "Free"),
    ),
    Case(
        "prod-pool-one-zone",
        "aks-production-resilience",
        "prod",
        "availability_zones=['1', '2', '3']",
        change=Edit(AGENT_POOL, "cluster-workload-pool", "availabilityZones", ["1"]),
    ),
    Case(
        "staging-held-to-production",
        "aks-production-resilience",
        "staging",
        "in production stack 'staging'",
        config={"aks-production-resilience": {"productionStacks": ["staging", "prod"]}},
        at_changed=False,
    ),
    # ---------------------------------------------------------------- Key Vault, ACR, roles
    Case(
        "vault-access-policies",
        "keyvault-rbac-soft-delete",
        "dev",
        "enable_rbac_authorization=True",
        change=Edit(VAULT, "secrets-vault", "properties.enableRbacAuthorization", False),
    ),
    Case(
        "vault-no-soft-delete",
        "keyvault-rbac-soft-delete",
        "prod",
        "enableSoftDelete is False",
        change=Edit(VAULT, "secrets-vault", "properties.enableSoftDelete", False),
    ),
    Case(
        "staging-vault-purgeable",
        "keyvault-purge-protection",
        "staging",
        "enablePurgeProtection is None in stack 'staging'",
        change=Edit(VAULT, "secrets-vault", "properties.enablePurgeProtection", DELETE),
    ),
    Case(
        "dev-vault-required-purge-protection",
        "keyvault-purge-protection",
        "dev",
        "in stack 'dev'",
        config={"keyvault-purge-protection": {"purgeProtectionStacks": ["dev"]}},
        at_changed=False,
    ),
    Case(
        "acr-admin-user",
        "acr-no-admin-or-anonymous-access",
        "prod",
        "admin_user_enabled=False",
        change=Edit(REGISTRY, "registry-acr", "adminUserEnabled", True),
    ),
    Case(
        "acr-anonymous-pull",
        "acr-no-admin-or-anonymous-access",
        "prod",
        "anonymous_pull_enabled=False",
        change=Edit(REGISTRY, "registry-acr", "anonymousPullEnabled", True),
    ),
    *[
        Case(
            f"role-{role.lower().replace(' ', '-')}",
            "no-privileged-role-assignments",
            stack,
            f"grants {role} ({guid})",
            change=Edit(
                ROLE_ASSIGNMENT,
                assignment,
                "roleDefinitionId",
                f"/subscriptions/00000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/"
                f"roleDefinitions/{guid}",
            ),
        )
        for role, guid, stack, assignment in (
            ("Owner", OWNER, "prod", "cluster-deployer-cluster-admin"),
            ("Contributor", CONTRIBUTOR, "staging", "external-secrets-key-vault-secrets-user"),
            ("User Access Administrator", USER_ACCESS_ADMIN, "dev", "cert-manager-dns-zone-contributor-dev"),
        )
    ],
    # ---------------------------------------------------------------- tags, protection, DNS
    Case(
        "vault-without-cost-center",
        "azure-required-tags",
        "prod",
        "lacks the tags costCenter",
        change=Edit(VAULT, "secrets-vault", "tags.costCenter", DELETE),
    ),
    Case(
        "identity-untagged",
        "azure-required-tags",
        "dev",
        "lacks the tags environment, project, managed-by, costCenter, owner",
        change=Edit(IDENTITY, "cluster-control-plane", "tags", DELETE),
    ),
    Case(
        "agent-pool-blank-owner",
        "azure-required-tags",
        "staging",
        "lacks the tags owner",
        change=Edit(AGENT_POOL, "cluster-workload-pool", "tags.owner", " "),
    ),
    Case(
        "extra-required-tag",
        "azure-required-tags",
        "dev",
        "lacks the tags dataClassification",
        config={
            "azure-required-tags": {
                "requiredTags": ["environment", "project", "managed-by", "costCenter", "owner", "dataClassification"]
            }
        },
        at_changed=False,
    ),
    Case(
        "prod-unprotected",
        "protect-stateful-resources",
        "prod",
        "set ResourceOptions(protect=True)",
        sets={"protect": "false"},
        at_changed=False,
    ),
    Case(
        "prod-workspace-unprotected",
        "protect-stateful-resources",
        "prod",
        "Workspace 'env-logs' holds state",
        change=Protect(WORKSPACE, "env-logs", False),
    ),
    Case(
        "staging-protected-stack",
        "protect-stateful-resources",
        "staging",
        "in stack 'staging'",
        config={"protect-stateful-resources": {"protectedStacks": ["staging", "prod"]}},
        at_changed=False,
    ),
    Case(
        "ttl-too-short",
        "dns-ttl-range",
        "prod",
        "ttl 30 is outside 60..86400",
        change=Edit(RECORD, "dns-cname-cdn", "ttl", 30),
    ),
    Case(
        "ttl-too-long",
        "dns-ttl-range",
        "dev",
        "ttl 172800 is outside 60..86400",
        change=Edit(RECORD, "dns-a-dev", "ttl", 172800),
    ),
    Case(
        "ttl-missing",
        "dns-ttl-range",
        "staging",
        "has no ttl",
        change=Edit(RECORD, "dns-a-staging", "ttl", DELETE),
    ),
    Case(
        "ttl-below-configured-minimum",
        "dns-ttl-range",
        "dev",
        "ttl 300 is outside 600..86400",
        config={"dns-ttl-range": {"minTtl": 600}},
        at_changed=False,
    ),
    # ---------------------------------------------------------------- containers
    Case(
        "no-limits",
        "k8s-container-resources",
        "prod",
        "has no limits.cpu, limits.memory",
        change=Edit(DEPLOYMENT, "broxiva-api-blue", f"{CONTAINER}.resources.limits", DELETE),
    ),
    Case(
        "no-cpu-request",
        "k8s-container-resources",
        "dev",
        "has no requests.cpu",
        change=Edit(DEPLOYMENT, "broxiva-worker-blue", f"{CONTAINER}.resources.requests.cpu", DELETE),
    ),
    Case(
        "no-readiness-probe",
        "k8s-container-probes",
        "prod",
        "exposes ports but has no readinessProbe",
        change=Edit(DEPLOYMENT, "broxiva-web-green", f"{CONTAINER}.readinessProbe", DELETE),
    ),
    Case(
        "no-liveness-probe",
        "k8s-container-probes",
        "staging",
        "has no livenessProbe",
        change=Edit(DEPLOYMENT, "broxiva-api-blue", f"{CONTAINER}.livenessProbe", DELETE),
    ),
    *[
        Case(
            f"security-{label}",
            "k8s-restricted-security-context",
            stack,
            fragment,
            change=Edit(DEPLOYMENT, deployment, path, value),
        )
        for label, stack, deployment, path, value, fragment in (
            (
                "privilege-escalation",
                "prod",
                "broxiva-api-blue",
                f"{SECURITY}.allowPrivilegeEscalation",
                True,
                "allowPrivilegeEscalation: false",
            ),
            ("root", "dev", "broxiva-web-blue", f"{SECURITY}.runAsNonRoot", False, "runAsNonRoot: true"),
            ("uid-0", "staging", "broxiva-api-green", "spec.template.spec.securityContext.runAsUser", 0, "runAsUser"),
            (
                "writable-root",
                "staging",
                "broxiva-worker-blue",
                f"{SECURITY}.readOnlyRootFilesystem",
                False,
                "readOnlyRootFilesystem: true",
            ),
            ("capabilities", "prod", "broxiva-worker-green", f"{SECURITY}.capabilities.drop", [], "drop: [ALL]"),
            (
                "sys-admin",
                "dev",
                "broxiva-api-blue",
                f"{SECURITY}.capabilities.add",
                ["SYS_ADMIN"],
                "found ['SYS_ADMIN']",
            ),
            (
                "seccomp",
                "prod",
                "broxiva-web-blue",
                f"{SECURITY}.seccompProfile.type",
                "Unconfined",
                "seccompProfile.type: RuntimeDefault",
            ),
            ("privileged", "dev", "broxiva-worker-blue", f"{SECURITY}.privileged", True, "privileged: false"),
            (
                "host-network",
                "prod",
                "broxiva-api-green",
                "spec.template.spec.hostNetwork",
                True,
                "hostNetwork is true",
            ),
        )
    ],
    Case(
        "registry-not-allowed",
        "k8s-allowed-images",
        "dev",
        "image 'docker.io/broxiva/broxiva-api:dev-3f2c1a9' is not from an allowed registry",
        sets={"registry.server": "docker.io/broxiva"},
        at_changed=False,
    ),
    Case(
        "registry-removed-from-allow-list",
        "k8s-allowed-images",
        "prod",
        "is not from an allowed registry (ghcr.io/broxiva/)",
        config={"k8s-allowed-images": {"allowedRegistries": ["ghcr.io/broxiva/"]}},
        at_changed=False,
    ),
    Case(
        "latest-tag",
        "k8s-allowed-images",
        "prod",
        "uses the mutable tag 'latest'",
        change=Edit(
            DEPLOYMENT, "broxiva-worker-blue", f"{CONTAINER}.image", "broxivaprodacr.azurecr.io/broxiva-api:latest"
        ),
    ),
    Case(
        "untagged",
        "k8s-allowed-images",
        "staging",
        "has no tag",
        change=Edit(DEPLOYMENT, "broxiva-api-green", f"{CONTAINER}.image", "ghcr.io/broxiva/broxiva-api"),
    ),
    Case(
        "lookalike-registry",
        "k8s-allowed-images",
        "dev",
        "not from an allowed registry",
        change=Edit(DEPLOYMENT, "broxiva-worker-blue", f"{CONTAINER}.image", "ghcr.io/broxiva-mirror/api:dev-3f2c1a9"),
    ),
    # ---------------------------------------------------------------- namespaces, ConfigMaps
    Case(
        "namespace-baseline",
        "k8s-app-namespace-pod-security",
        "prod",
        "enforces Pod Security 'baseline'",
        change=Edit(NAMESPACE, "app-namespace", ("metadata", "labels", PSA_ENFORCE), "baseline"),
    ),
    Case(
        "namespace-no-enforce-label",
        "k8s-app-namespace-pod-security",
        "dev",
        "has no Pod Security enforce label",
        change=Edit(NAMESPACE, "app-namespace", ("metadata", "labels", PSA_ENFORCE), DELETE),
    ),
    *[
        Case(
            f"configmap-{label}",
            "k8s-configmap-no-secrets",
            stack,
            fragment,
            change=Edit(CONFIG_MAP, "app-config", f"data.{key}", value),
        )
        for label, stack, key, value, fragment in (
            ("secret-key", "prod", "STRIPE_SECRET_KEY", "set-me", "key 'STRIPE_SECRET_KEY' names a secret"),
            ("password-key", "dev", "redis_password", "x", "key 'redis_password' names a secret"),
            ("stripe-value", "staging", "PAYMENT_MODE", "sk_live_51AbCdEf", "a Stripe secret key"),
            (
                "public-key-holding-secret",
                "prod",
                "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
                "sk_live_51AbCdEf",
                "a Stripe secret key",
            ),
            ("pem", "dev", "TLS_CA", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n", "a PEM block"),
            (
                "credentials-url",
                "prod",
                "REDIS_HOST",
                "postgres://broxiva:hunter2@db.example.com:5432/app",
                "a URL with embedded credentials",
            ),
            ("hex-blob", "staging", "LOG_LEVEL", "9f" * 32, "a long hex string"),
            ("base64-blob", "dev", "JWT_EXPIRATION", "c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZy1lbm91Z2gx", "base64"),
        )
    ],
    # ---------------------------------------------------------------- Helm
    *[
        Case(
            f"helm-version-{label}",
            "helm-chart-pinned-version",
            stack,
            fragment,
            change=Edit(HELM, release, "version", value),
        )
        for label, stack, release, value, fragment in (
            ("range", "prod", "cert-manager-controller", "^1.21.0", "version '^1.21.0' is not an exact version"),
            ("wildcard", "dev", "external-secrets-operator", "2.x", "not an exact version"),
            ("empty", "staging", "edge-envoy-gateway", "", "has no version"),
            ("missing", "prod", "external-secrets-operator", DELETE, "has no version"),
        )
    ],
    Case(
        "helm-foreign-repository",
        "helm-chart-allowed-repository",
        "prod",
        "comes from 'https://charts.bitnami.com/bitnami'",
        change=Edit(HELM, "cert-manager-controller", "repositoryOpts.repo", "https://charts.bitnami.com/bitnami"),
    ),
    Case(
        "helm-foreign-oci",
        "helm-chart-allowed-repository",
        "dev",
        "comes from 'oci://ghcr.io/someone/gateway-helm'",
        change=Edit(HELM, "edge-envoy-gateway", "chart", "oci://ghcr.io/someone/gateway-helm"),
    ),
    Case(
        "helm-no-repository",
        "helm-chart-allowed-repository",
        "staging",
        "names no repository",
        change=Edit(HELM, "external-secrets-operator", "repositoryOpts", DELETE),
    ),
    # ---------------------------------------------------------------- stack rules
    Case(
        "stable-selects-missing-color",
        "blue-green-switch-safe",
        "dev",
        "selects color=green but no Deployment in 'broxiva-development' runs pods",
        change=Edit(SERVICE, "broxiva-api-stable", "spec.selector.color", "green"),
    ),
    Case(
        "active-color-scaled-to-zero",
        "blue-green-switch-safe",
        "staging",
        "its Deployment (broxiva-api-blue) is scaled to zero without an HPA",
        # A full canary: the routes give blue nothing, only the stable Service still selects it.
        sets={"canaryWeight": "100"},
        change=Edit(DEPLOYMENT, "broxiva-api-blue", "spec.replicas", 0),
        at_changed=False,
    ),
    Case(
        "stable-selects-stopped-color",
        "blue-green-switch-safe",
        "prod",
        "is scaled to zero without an HPA",
        sets={"colors.green.running": "false"},
        change=Edit(SERVICE, "broxiva-web-stable", "spec.selector.color", "green"),
    ),
    Case(
        "stable-selects-no-color",
        "blue-green-switch-safe",
        "staging",
        "selects no color",
        change=Edit(SERVICE, "broxiva-api-stable", "spec.selector.color", DELETE),
    ),
    Case(
        "missing-vault-secret",
        "external-secret-keys-exist",
        "prod",
        "reads Key Vault secret 'missing-secret' that the stack does not declare in vault 'broxiva-kv'",
        change=Edit(EXTERNAL_SECRET, "external-secrets-all", "spec.data[0].remoteRef.key", "missing-secret"),
    ),
    Case(
        "store-on-other-vault",
        "external-secret-keys-exist",
        "staging",
        "in vault 'broxiva-other-kv'",
        change=Edit(
            SECRET_STORE,
            "external-secrets-store",
            "spec.provider.azurekv.vaultUrl",
            "https://broxiva-other-kv.vault.azure.net/",
        ),
        at_changed=False,
    ),
    Case(
        "unknown-cluster-issuer",
        "certificate-issuer-exists",
        "prod",
        "uses ClusterIssuer 'letsencrypt-prod' which the stack does not declare",
        change=Edit(CERTIFICATE, "cert-manager-api-certificate", "spec.issuerRef.name", "letsencrypt-prod"),
    ),
    Case(
        "namespaced-issuer",
        "certificate-issuer-exists",
        "dev",
        "uses Issuer 'letsencrypt-production'",
        change=Edit(CERTIFICATE, "cert-manager-web-certificate", "spec.issuerRef.kind", "Issuer"),
    ),
    Case(
        "route-to-missing-service",
        "httproute-backends-exist",
        "prod",
        "Service 'broxiva-production/broxiva-api-canary' which the stack does not declare",
        change=Edit(ROUTE, "routes-broxiva-api", "spec.rules[0].backendRefs[1].name", "broxiva-api-canary"),
    ),
    Case(
        "route-to-other-namespace",
        "httproute-backends-exist",
        "dev",
        "Service 'default/broxiva-web-blue'",
        change=Edit(ROUTE, "routes-broxiva-web", "spec.rules[0].backendRefs[0].namespace", "default"),
    ),
    Case(
        "weight-on-a-stopped-color",
        "route-weights-on-running-colors",
        "prod",
        "sends weight 5 to Service 'broxiva-api-green'",
        change=Edit(ROUTE, "routes-broxiva-api", "spec.rules[0].backendRefs[1].weight", 5),
        sets={"colors.green.running": "false"},
    ),
    # ---------------------------------------------------------------- monitoring
    Case(
        "prod-alert-without-action",
        "production-alerts-notify",
        "prod",
        "alert rule 'HighErrorRate' of 'alerts-rules' has no action group",
        change=Edit(PROM_RULES, "alerts-rules", "rules[4].actions", []),
    ),
    Case(
        "prod-action-group-without-receivers",
        "production-alerts-notify",
        "prod",
        "action group 'alerts-informational' notifies nobody",
        change=Edit(ACTION_GROUP, "alerts-informational", "emailReceivers", DELETE),
    ),
    Case(
        "prod-without-alerts",
        "production-alerts-notify",
        "prod",
        "production has no Prometheus alert rules",
        sets={"features.monitoring": "full"},
        at_changed=False,
    ),
    Case(
        "routed-app-not-scraped",
        "routed-apps-scraped",
        "staging",
        "sends traffic to Service 'broxiva-api-blue', which no ServiceMonitor scrapes",
        change=Drop(SERVICE_MONITOR, "scrape-broxiva-api", (ROUTE, "routes-broxiva-api")),
    ),
    Case(
        "vault-without-diagnostics",
        "diagnostics-on-stateful-resources",
        "dev",
        "Key Vault 'secrets-vault' sends no logs",
        change=Drop(DIAGNOSTIC_SETTING, "diagnostics-vault", (VAULT, "secrets-vault")),
    ),
    Case(
        "diagnostics-without-workspace",
        "diagnostics-on-stateful-resources",
        "prod",
        "PostgreSQL server 'postgres-server' sends no logs",
        change=Edit(DIAGNOSTIC_SETTING, "diagnostics-postgres", "workspaceId", DELETE),
        at_changed=False,
    ),
    Case(
        "hpa-min-above-max",
        "hpa-consistent",
        "prod",
        "has minReplicas 30 and maxReplicas 20",
        change=Edit(HPA, "broxiva-api-green-hpa", "spec.minReplicas", 30),
    ),
    Case(
        "hpa-min-zero",
        "hpa-consistent",
        "prod",
        "has minReplicas 0",
        change=Edit(HPA, "broxiva-worker-blue-hpa", "spec.minReplicas", 0),
    ),
    Case(
        "hpa-missing-target",
        "hpa-consistent",
        "prod",
        "scales Deployment 'broxiva-web-purple' which the stack does not declare",
        change=Edit(HPA, "broxiva-web-green-hpa", "spec.scaleTargetRef.name", "broxiva-web-purple"),
    ),
    Case(
        "a-record-foreign-ip",
        "dns-a-records-own-ip",
        "prod",
        "A record 'api' points at 198.51.100.7, which is not a public IP of this stack",
        change=Edit(RECORD, "dns-a-api", "aRecords[0].ipv4Address", "198.51.100.7"),
    ),
    Case(
        "a-record-foreign-ip-dev",
        "dns-a-records-own-ip",
        "dev",
        "A record '*.dev' points at 20.1.2.3",
        change=Edit(RECORD, "dns-a-wildcard-dev", "aRecords[0].ipv4Address", "20.1.2.3"),
    ),
    Case(
        "default-deny-ingress-only",
        "app-namespace-default-deny",
        "prod",
        "Namespace 'broxiva-production' has no default-deny NetworkPolicy",
        change=Edit(NETWORK_POLICY, "app-default-deny", "spec.policyTypes", ["Ingress"]),
        at_changed=False,
    ),
    Case(
        "default-deny-selects-pods",
        "app-namespace-default-deny",
        "dev",
        "has no default-deny NetworkPolicy",
        change=Edit(NETWORK_POLICY, "app-default-deny", "spec.podSelector", {"matchLabels": {"app": "broxiva-api"}}),
        at_changed=False,
    ),
    Case(
        "default-deny-allows-egress",
        "app-namespace-default-deny",
        "staging",
        "has no default-deny NetworkPolicy",
        change=Edit(NETWORK_POLICY, "app-default-deny", "spec.egress", [{}]),
        at_changed=False,
    ),
    # ---------------------------------------------------------------- private network and data services
    Case("postgres-no-subnet", "data-services-private", "prod", "has no delegated subnet",
         change=Edit(PG_SERVER, "postgres-server", "network.delegatedSubnetResourceId", DELETE)),
    Case("postgres-public", "data-services-private", "dev", "network.publicNetworkAccess is Enabled",
         change=Edit(PG_SERVER, "postgres-server", "network.publicNetworkAccess", "Enabled")),
    Case("redis-public", "data-services-private", "staging", "publicNetworkAccess is 'Enabled'",
         change=Edit(REDIS, "redis-cache", "publicNetworkAccess", "Enabled")),
    Case("storage-public", "data-services-private", "prod", "publicNetworkAccess is 'Enabled'",
         change=Edit(STORAGE, "backups-account", "publicNetworkAccess", "Enabled")),
    Case("storage-shared-key", "data-services-private", "dev", "allowSharedKeyAccess is True",
         change=Edit(STORAGE, "backups-account", "allowSharedKeyAccess", True)),
    Case("vault-public-in-staging", "data-services-private", "staging", "keyVault.publicNetworkAccess: Disabled",
         change=Edit(VAULT, "secrets-vault", "properties.publicNetworkAccess", "Enabled")),
    Case("vault-firewall-allow", "data-services-private", "dev", "networkAcls.defaultAction is 'Allow'",
         change=Edit(VAULT, "secrets-vault", "properties.networkAcls.defaultAction", "Allow")),
    Case("registry-public-in-prod", "data-services-private", "prod", "publicNetworkAccess is 'Enabled'",
         change=Edit(REGISTRY, "registry-acr", "publicNetworkAccess", "Enabled")),
    Case("redis-tls-1.0", "data-services-tls", "prod", "minimumTlsVersion is '1.0'",
         change=Edit(REDIS, "redis-cache", "minimumTlsVersion", "1.0")),
    Case("redis-plaintext", "data-services-tls", "dev", "clientProtocol is 'Plaintext'",
         change=Edit(REDIS_DB, "redis-database", "clientProtocol", "Plaintext")),
    Case("storage-tls-1.0", "data-services-tls", "staging", "minimumTlsVersion is 'TLS1_0'",
         change=Edit(STORAGE, "backups-account", "minimumTlsVersion", "TLS1_0")),
    Case("postgres-tls-off", "postgres-requires-tls", "prod", "no require_secure_transport=on",
         change=Edit(PG_CONFIG, "postgres-require-tls", "name", "ssl_min_protocol_version"), at_changed=False),
    Case("postgres-no-ha-in-prod", "production-data-resilience", "prod", "set postgres.highAvailability",
         change=Edit(PG_SERVER, "postgres-server", "highAvailability.mode", "Disabled")),
    Case("postgres-no-geo-backup", "production-data-resilience", "prod", "geoRedundantBackup is 'Disabled'",
         change=Edit(PG_SERVER, "postgres-server", "backup.geoRedundantBackup", "Disabled")),
    Case("postgres-short-retention", "production-data-resilience", "prod", "backupRetentionDays is 7",
         sets={"postgres.backupRetentionDays": "7"}),
    Case("redis-no-ha-in-prod", "production-data-resilience", "prod", "set redis.highAvailability: true",
         sets={"redis.highAvailability": "false"}),
    Case("backups-mutable-in-prod", "production-data-resilience", "prod", "is not immutable",
         change=Edit(BLOB_CONTAINER, "backups-container", "immutableStorageWithVersioning", DELETE)),
    Case("no-encryption-at-host", "aks-node-hardening", "dev", "enableEncryptionAtHost is False",
         change=Edit(AGENT_POOL, "cluster-workload-pool", "enableEncryptionAtHost", False)),
    Case("system-pool-no-encryption-at-host", "aks-node-hardening", "prod", "enable_encryption_at_host=True",
         change=Edit(CLUSTER, "cluster-aks", "agentPoolProfiles[0].enableEncryptionAtHost", DELETE)),
    Case("no-azure-policy-in-staging", "aks-node-hardening", "staging", "azurepolicy add-on is off",
         change=Edit(CLUSTER, "cluster-aks", "addonProfiles.azurepolicy.enabled", False)),
    Case("no-image-cleaner-in-prod", "aks-node-hardening", "prod", "Image Cleaner is off",
         change=Edit(CLUSTER, "cluster-aks", "securityProfile.imageCleaner.enabled", False)),
    Case("generated-secret-without-expiry", "generated-secrets-expire", "prod", "has no expiry",
         change=Edit(KV_SECRET, "secrets-jwt-access-secret", "properties", {"value": "x", "contentType": "text/plain"})),
    Case("prod-database-unprotected", "protect-stateful-resources", "prod", "set ResourceOptions(protect=True)",
         change=Protect(PG_SERVER, "postgres-server", False)),
    Case("prod-cache-unprotected", "protect-stateful-resources", "prod", "set ResourceOptions(protect=True)",
         change=Protect(REDIS_DB, "redis-database", False)),
]  # fmt: skip

POLICY_NAMES = [p.name for p in POLICIES]
RESOURCE_POLICIES = [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]
STACK_POLICIES = [p for p in POLICIES if isinstance(p, StackValidationPolicy)]


# --------------------------------------------------------------------------- (a) every stack passes


def test_stack_passes_every_policy(plan, stack):
    violations = evaluate(plan(stack))
    assert not [v for v in violations if v.enforcement_level == MANDATORY], _show(violations)
    assert violations == [], _show(violations)


@pytest.mark.parametrize(
    ("stack", "sets"),
    [
        ("prod", {"activeColor": "green"}),
        ("prod", {"canaryWeight": "25"}),
        ("prod", {"colors.green.running": "false"}),
        ("staging", {"activeColor": "green", "colors.blue.running": "false"}),
        ("dev", {"colors.green.tag": "dev-4a5b6c7", "colors.green.running": "true", "activeColor": "green"}),
        ("prod", {"appSettings.stripePublishableKey": "pk_live_" + "51Hq7x" * 17}),
        ("staging", {"features.monitoring": "full-alerts"}),
        ("staging", {"features.monitoring": "basic"}),
        ("dev", {"features.monitoring": "full", "observability.grafanaName": "broxiva-dev-grafana"}),
    ],
    ids=[
        "flip",
        "canary",
        "idle-scaled-down",
        "staging-flip-and-stop-blue",
        "dev-second-color",
        "long-publishable",
        "staging-alerts",
        "staging-basic",
        "dev-full",
    ],
)
def test_release_steps_pass(plan, stack, sets):
    """What the runbook does on purpose (flip, canary, scale the idle color to zero) passes every policy."""
    violations = evaluate(plan(stack, sets))
    assert violations == [], _show(violations)


# --------------------------------------------------------------------------- (b) each rule fires alone


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_fires_alone(plan, case: Case):
    recorded = plan(case.stack, case.sets or None)
    changed = case.change(recorded) if case.change else None
    violations = evaluate(recorded, case.config)
    assert violated(violations) == {case.policy}, _show(violations)
    assert {v.enforcement_level for v in violations} == {MANDATORY}
    assert any(case.fragment in v.message for v in violations), _show(violations)
    if changed and case.at_changed:
        assert {v.urn for v in violations} == {changed}, _show(violations)


def test_every_policy_has_a_violating_case():
    assert {c.policy for c in CASES} == set(POLICY_NAMES)


def test_cases_differ_from_the_stack_they_start_from():
    """A case without a change must owe its violation to config: guards against vacuous cases."""
    for case in CASES:
        assert case.change or case.sets or case.config, case.id


def test_untagged_image_on_the_active_color_blocks_the_switch(plan):
    recorded = plan("prod")
    Edit(DEPLOYMENT, "broxiva-api-blue", f"{CONTAINER}.image", "broxivaprodacr.azurecr.io/broxiva-api")(recorded)
    violations = evaluate(recorded)
    assert violated(violations) == {"blue-green-switch-safe", "k8s-allowed-images"}, _show(violations)
    switch = [v for v in violations if v.policy_name == "blue-green-switch-safe"]
    assert "sends traffic to Deployment 'broxiva-api-blue' whose image" in switch[0].message


def test_every_privileged_role_is_refused_and_narrow_roles_pass(plan):
    recorded = plan("prod")
    assignment = recorded.one(ROLE_ASSIGNMENT, "registry-kubelet-acr-pull")
    prefix = assignment["inputs"]["roleDefinitionId"].rsplit("/", 1)[0]
    for guid in (OWNER, CONTRIBUTOR, USER_ACCESS_ADMIN, OWNER.upper()):
        assignment["inputs"]["roleDefinitionId"] = f"{prefix}/{guid}"
        assert violated(evaluate(recorded)) == {"no-privileged-role-assignments"}, guid
    # Reader and the other narrow built-ins pass.
    assignment["inputs"]["roleDefinitionId"] = f"{prefix}/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    assert evaluate(recorded) == []


def test_publishable_and_public_settings_are_not_secrets(plan):
    recorded = plan("prod")
    data = recorded.one(CONFIG_MAP, "app-config")["inputs"]["data"]
    data["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"] = "pk_live_" + "51Hq7xYz" * 12
    data["STRIPE_PUBLISHABLE_KEY"] = "pk_live_" + "51Hq7xYz" * 12
    data["CORS_ORIGIN"] = "https://broxiva.com,https://admin.broxiva.com,https://www.broxiva.com"
    data["DATABASE_HOST"] = "broxiva-prod-pg.postgres.database.azure.com"
    assert evaluate(recorded) == []


def test_chart_repositories_match_exactly_or_by_prefix(plan):
    """Allowed entries ending in '/' are prefixes; others match exactly (no look-alike hosts)."""
    recorded = plan("dev")
    release = recorded.one(HELM, "cert-manager-controller")
    release["inputs"]["repositoryOpts"]["repo"] = "https://charts.jetstack.io/"
    assert evaluate(recorded) == []
    release["inputs"]["repositoryOpts"]["repo"] = "https://charts.jetstack.io.evil.example"
    assert violated(evaluate(recorded)) == {"helm-chart-allowed-repository"}


# --------------------------------------------------------------------------- engine fidelity


def test_preview_with_unknown_values_reports_nothing(plan):
    """During a preview, IDs and addresses are unknown: the rules skip them instead of failing or guessing."""
    recorded = plan("prod")

    def blank(value):
        if isinstance(value, dict):
            return {k: blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        if isinstance(value, str) and ("/subscriptions/" in value or re.fullmatch(r"[0-9a-f-]{36}", value)):
            return UNKNOWN_STRING_VALUE
        if isinstance(value, str) and re.fullmatch(r"203\.0\.113\.\d+", value):
            return UNKNOWN_STRING_VALUE
        return value

    for resource in recorded.resources:
        resource["inputs"] = blank(resource["inputs"])
        resource["outputs"] = blank(resource["outputs"])
    violations = evaluate(recorded)
    assert [v for v in violations if v.enforcement_level == MANDATORY] == [], _show(violations)


def test_a_record_rule_skips_when_the_stack_ip_is_not_known(plan):
    recorded = plan("prod")
    Edit(RECORD, "dns-a-api", "aRecords[0].ipv4Address", "198.51.100.7")(recorded)
    ip = recorded.by_type(PUBLIC_IP)[0]["urn"]
    assert violated(evaluate(recorded, extra_outputs={ip: {"ipAddress": UNKNOWN_STRING_VALUE}})) == set()
    assert violated(evaluate(recorded)) == {"dns-a-records-own-ip"}


def test_stack_rules_read_key_vault_secrets_by_their_output_name(plan):
    """Under the engine a Key Vault secret's outputs carry ``name`` and ``id``, not ``secretName``/``vaultName``."""
    recorded = plan("prod")
    secrets = recorded.by_type(KV_SECRET)
    assert secrets and all("secretName" not in s["outputs"] and s["outputs"]["name"] for s in secrets)
    assert evaluate(recorded, policies=STACK_POLICIES) == []
    for secret in secrets:
        secret["outputs"]["id"] = secret["outputs"]["id"].replace("/vaults/broxiva-kv/", "/vaults/elsewhere-kv/")
    assert violated(evaluate(recorded, policies=STACK_POLICIES)) == {"external-secret-keys-exist"}
    # Secrets being created (a preview) have no name yet: nothing to compare with, nothing reported.
    for secret in secrets:
        secret["outputs"]["name"] = secret["outputs"]["id"] = "[unknown]"
    assert evaluate(recorded, policies=STACK_POLICIES) == []


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


_ANALYZED: dict[tuple[str, bytes], list[Any]] = {}


def _analyze(servicer: _PolicyAnalyzerServicer, overrides: dict[str, dict[str, Any]], request) -> list[Any]:
    """The servicer's diagnostics for one resource, once per distinct request and policy config.

    Analyze depends on nothing else, and a case changes one resource of a stack: the others are the
    requests of every other case on that stack.
    """
    key = (json.dumps(overrides, sort_keys=True), request.SerializeToString(deterministic=True))
    if key not in _ANALYZED:
        _ANALYZED[key] = list(servicer.Analyze(request, None).diagnostics)
    return _ANALYZED[key]


def _engine_violations(
    plan: engine.Plan, overrides: dict[str, dict[str, Any]], *, stack: bool = True
) -> list[tuple[str, str, str, str]]:
    """The pack as the Pulumi engine drives it: pulumi_policy's own analyzer servicer, fed protobuf requests.

    ``stack=False``: the resource policies only (Analyze), without the stack's AnalyzeStack.
    """
    servicer = _PolicyAnalyzerServicer(rule_package.PACK_NAME, "0.0.1", POLICIES, rule_package.PACK_ENFORCEMENT_LEVEL)
    servicer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={
                name: proto.PolicyConfig(enforcementLevel=proto.MANDATORY, properties=_struct(values))
                for name, values in overrides.items()
            }
        ),
        None,
    )
    by_urn = {r["urn"]: r for r in plan.resources}

    def options(resource):
        return proto.AnalyzerResourceOptions(
            protect=bool(resource["protect"]),
            ignoreChanges=resource["ignoreChanges"],
            additionalSecretOutputs=resource["additionalSecretOutputs"],
            parent=resource["parent"] or "",
        )

    def provider(resource):
        found = by_urn.get((resource["provider"] or "").rsplit("::", 1)[0])
        if found is None:
            return None
        return proto.AnalyzerProviderResource(
            type=found["type"], properties=_struct(inputs_of(found)), urn=found["urn"], name=found["name"]
        )

    found = []
    for resource in plan.resources:
        request = proto.AnalyzeRequest(
            type=resource["type"],
            properties=_struct(inputs_of(resource)),
            urn=resource["urn"],
            name=resource["name"],
            options=options(resource),
            provider=provider(resource),
        )
        # The engine attributes a resource policy's diagnostics to the analyzed resource.
        found += [(d, d.urn or resource["urn"]) for d in _analyze(servicer, overrides, request)]
    if stack:
        stack_request = proto.AnalyzeStackRequest(
            resources=[
                proto.AnalyzerResource(
                    type=r["type"],
                    # AnalyzeStack: each resource's outputs (pulumi pkg/resource/deploy/step_generator.go).
                    properties=_struct(outputs_of(r)),
                    urn=r["urn"],
                    name=r["name"],
                    options=options(r),
                    provider=provider(r),
                    parent=r["parent"] or "",
                    dependencies=r["dependencies"],
                )
                for r in plan.resources
            ]
        )
        found += [(d, d.urn or None) for d in servicer.AnalyzeStack(stack_request, None).diagnostics]
    levels = {proto.MANDATORY: "mandatory", proto.ADVISORY: "advisory"}
    # The servicer prefixes each message with the policy's description.
    return sorted((d.policyName, urn, d.message.split("\n", 1)[-1], levels[d.enforcementLevel]) for d, urn in found)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_adapter_reports_what_the_engine_servicer_reports(plan, case: Case):
    """A case of a resource policy compares the resource policies (Analyze); a case of a stack policy the whole
    pack. The servicer's AnalyzeStack re-reads the whole graph per policy: the stack cases, and every stack
    as it is (test_engine_servicer_passes_every_stack), cover it."""
    recorded = plan(case.stack, case.sets or None)
    if case.change:
        case.change(recorded)
    of_stack = case.policy in {p.name for p in STACK_POLICIES}
    chosen = None if of_stack else RESOURCE_POLICIES
    found = evaluate(recorded, case.config, policies=chosen)
    ours = sorted((v.policy_name, v.urn, v.message, v.enforcement_level.value) for v in found)
    assert ours, case.id
    assert _engine_violations(recorded, case.config, stack=of_stack) == ours


def test_engine_servicer_passes_every_stack(plan, stack):
    assert _engine_violations(plan(stack), {}) == []


def test_engine_servicer_agrees_on_a_first_preview(plan):
    """Unknowns reach the servicer as the engine sends them; it reports what the adapter reports."""
    preview = plan("prod", first_preview=True)
    ours = sorted((v.policy_name, v.urn, v.message, v.enforcement_level.value) for v in evaluate(preview))
    assert _engine_violations(preview, {}) == ours
    assert not [v for v in ours if v[3] == "mandatory"]


def test_resource_args_are_what_the_engine_builds(plan):
    recorded = plan("prod")
    cluster = recorded.one(CLUSTER, "cluster-aks")
    args = resource_args(cluster, {"x": 1}, {r["urn"]: r for r in recorded.resources})
    assert args.resource_type == CLUSTER and args.urn == cluster["urn"] and args.name == "cluster-aks"
    assert isinstance(args.opts, PolicyResourceOptions)
    assert args.opts.protect is True and args.opts.ignore_changes == ["agentPoolProfiles[0].count"]
    assert args.props["aadProfile"]["enableAzureRBAC"] is True
    assert not isinstance(args.props, dict)  # behind the engine's unknown-checking proxy
    assert args.get_config() == {"x": 1}
    deployment = recorded.one(DEPLOYMENT, "broxiva-api-blue")
    provider = resource_args(deployment, None, {r["urn"]: r for r in recorded.resources}).provider
    assert provider is not None and provider.resource_type == "pulumi:providers:kubernetes"


def test_policy_config_defaults_and_overrides():
    config = policy_config({"k8s-allowed-images": {"allowedRegistries": ["myacr.azurecr.io/"]}})
    assert config["k8s-allowed-images"] == {"allowedRegistries": ["myacr.azurecr.io/"]}
    assert config["dns-ttl-range"] == {"minTtl": 60, "maxTtl": 86400}
    assert config["protect-stateful-resources"]["protectedStacks"] == ["prod"]
    assert config["helm-chart-allowed-repository"]["allowedChartRepositories"] == [
        "https://charts.external-secrets.io",
        "https://charts.jetstack.io",
        "oci://docker.io/envoyproxy/",
    ]
    with pytest.raises(KeyError):
        policy_config({"no-such-policy": {}})


def test_untaggable_types_match_the_sdk(plan):
    """A type is taggable exactly when its pulumi_azure_native class takes ``tags``."""

    def takes_tags(token: str) -> bool:
        _, module, name = token.split(":")
        cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
        return "tags" in inspect.signature(cls._internal_init).parameters

    plans = [plan(s) for s in STACKS] + [plan(s, project=p) for p, s in OTHER_PROJECT_STACKS]
    declared = {r["type"] for p in plans for r in p.resources if r["type"].startswith("azure-native:")}
    assert declared, "no azure-native resources"
    for token in sorted(declared | UNTAGGABLE_TYPES):
        assert takes_tags(token) == (token not in UNTAGGABLE_TYPES), token


# --------------------------------------------------------------------------- (c) the pack itself


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_policy_metadata(policy: Policy):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
    assert policy.description and policy.description.strip().endswith(".")
    assert isinstance(policy.enforcement_level, EnforcementLevel)
    assert policy.enforcement_level != EnforcementLevel.DISABLED
    assert isinstance(policy.severity, Severity)
    assert policy.remediation_steps and policy.remediation_steps.strip()
    if policy.config_schema is not None:
        for key, schema in policy.config_schema.properties.items():
            assert "default" in schema and schema.get("description"), key


def test_policy_names_are_unique():
    assert len(POLICY_NAMES) == len(set(POLICY_NAMES))


def test_every_resource_rule_applies_to_a_declared_type(plan):
    declared = {r["type"] for s in STACKS for r in plan(s).resources}
    for policy in RESOURCE_POLICIES:
        types = policy.resource_types  # type: ignore[attr-defined]
        assert types is None or types & declared, policy.name


def _rule_modules():
    for info in pkgutil.iter_modules(rule_package.__path__):
        yield importlib.import_module(f"{rule_package.__name__}.{info.name}")


def test_registry_lists_every_rule_defined_in_the_rule_modules():
    defined = [
        value
        for module in _rule_modules()
        for value in [*vars(module).values(), *vars(module).get("POLICIES", [])]
        if isinstance(value, Policy)
    ]
    assert defined
    assert {id(p) for p in defined} == {id(p) for p in POLICIES}
    assert [m.__name__.rsplit(".", 1)[-1] for m in rule_package.RULE_MODULES] == [
        "azure",
        "private",
        "kubernetes",
        "stack",
        "monitoring",
    ]
    for module in _rule_modules():
        for value in vars(module).get("POLICIES", []):
            assert any(value is p for p in POLICIES), f"{module.__name__}: {value.name} is not in the pack"


def test_main_builds_the_pack_from_the_registry():
    tree = ast.parse((POLICY_DIR / "__main__.py").read_text())
    imports = {
        alias.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert imports.get("POLICIES") == "rules"
    assert imports.get("PolicyPack") == "pulumi_policy"
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "PolicyPack"]
    assert len(calls) == 1
    keywords = {k.arg: k.value for k in calls[0].keywords}
    assert ast.literal_eval(keywords["name"]) == rule_package.PACK_NAME == "broxiva-platform-policies"
    assert ast.unparse(keywords["enforcement_level"]) == "EnforcementLevel.MANDATORY"
    assert rule_package.PACK_ENFORCEMENT_LEVEL == MANDATORY
    assert ast.unparse(keywords["policies"]) == "POLICIES"


def test_main_runs_as_the_cli_runs_it():
    """The CLI runs ``python -m pulumi.policy`` with the pack directory as the program (runpy.run_path).

    PolicyPack is replaced by a recorder so the analyzer server does not start and block.
    """
    script = (
        "import json, runpy, sys, pulumi_policy\n"
        "seen = {}\n"
        "class Recorder:\n"
        "    def __init__(self, **kwargs):\n"
        "        seen.update(kwargs)\n"
        "pulumi_policy.PolicyPack = Recorder\n"
        "runpy.run_path(sys.argv[1], run_name='__main__')\n"
        "print(json.dumps({'name': seen['name'], 'level': seen['enforcement_level'].value,\n"
        "                  'policies': [p.name for p in seen['policies']]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "."], cwd=POLICY_DIR, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    pack = json.loads(done.stdout.strip().splitlines()[-1])
    assert pack == {"name": "broxiva-platform-policies", "level": "mandatory", "policies": POLICY_NAMES}


def test_pack_project_file_and_requirements():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    runtime = project["runtime"]
    assert (runtime if isinstance(runtime, str) else runtime["name"]) == "python"
    assert project["description"].strip()

    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, version = line.partition("==")
                found[name.strip().lower().replace("_", "-")] = version.strip()
        return found

    policy_pins = pins(POLICY_DIR / "requirements.txt")
    root_pins = pins(PROJECT_DIR / "requirements.txt")
    assert set(policy_pins) == {"pulumi", "pulumi-policy"}
    assert all(version for version in policy_pins.values()), policy_pins
    assert {k: root_pins.get(k) for k in policy_pins} == policy_pins


def test_rules_need_nothing_beyond_the_packs_requirements():
    """The pack installs pulumi and pulumi-policy only: rule modules import the standard library and those."""
    allowed = set(sys.stdlib_module_names) | {"pulumi_policy", "pulumi", "rules"}
    for path in [POLICY_DIR / "__main__.py", *sorted((POLICY_DIR / "rules").glob("*.py"))]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
