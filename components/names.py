"""Every name, label key and namespace that more than one module uses, and the pure helpers built on them.

A name that two components must agree on is defined here once: a component that creates the object
uses it, and a component that refers to the object reads it from the creator's outputs where it can
(or from here when the creator comes later in the program).
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")

PROJECT = "broxiva-platform"
"""The Pulumi project (config keys are ``broxiva-platform:<key>``)."""

# ---------------------------------------------------------------- namespaces of the in-cluster add-ons
GATEWAY_NAMESPACE = "envoy-gateway-system"
"""Envoy Gateway's controller and its proxies; the app namespace admits traffic from here only."""
CERT_MANAGER_NAMESPACE = "cert-manager"
CERT_MANAGER_SERVICE_ACCOUNT = "cert-manager"
"""cert-manager's controller account, federated to the DNS Zone Contributor identity."""
EXTERNAL_SECRETS_NAMESPACE = "external-secrets-system"

# ---------------------------------------------------------------- objects of the app namespace
CONFIG_MAP_NAME = "broxiva-config"
"""Non-secret app settings every pod reads."""
APP_SECRET_NAME = "broxiva-secrets"
"""The Secret External Secrets fills from Key Vault; every pod reads it."""
PULL_SECRET_NAME = "registry-pull-secret"
"""Image pull secret synced from Key Vault where the registry needs a token."""
KEYVAULT_READER_SERVICE_ACCOUNT = "keyvault-reader"
"""The SecretStore's account, federated to the Key Vault Secrets User identity."""

# ---------------------------------------------------------------- the Gateway
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"
HTTP_LISTENER = "http"
"""Port 80 listener: redirects to HTTPS and serves cert-manager's HTTP-01 challenges."""

# ---------------------------------------------------------------- labels
APP_LABEL = "app"
COLOR_LABEL = "color"
PART_OF_LABEL = "broxiva.com/part-of"
PART_OF = "broxiva"
"""Every app pod carries PART_OF_LABEL=PART_OF; the egress policies select on it."""
GATE_FOR_LABEL = "broxiva.com/gate-for"
ROLE_LABEL = "broxiva.com/role"
"""A Service's role: color (fixed on one color: routes and metrics), stable or preview."""
COLOR_ROLE = "color"
"""On a promotion gate's pods: the app it checks (that app's ingress policy admits them)."""
POOL_LABEL = "broxiva.com/pool"
"""Node label naming the pool; app pods select WORKLOAD_POOL."""
SYSTEM_POOL = "system"
WORKLOAD_POOL = "workload"

SERVICE_PORT = 80
"""Port of every app Service (the container port is the app's own)."""


def idle_color(active: str) -> Color:
    """The color that does not take the stable traffic."""
    return "green" if active == "blue" else "blue"


def selector_labels(app: str, color: str) -> dict[str, str]:
    """What a color's Deployment, HPA, PDB and Services select on."""
    return {APP_LABEL: app, COLOR_LABEL: color}


def deployment_name(app: str, color: str) -> str:
    """``<app>-<color>``: the Deployment (and its HPA and PDB) of one color."""
    return f"{app}-{color}"


def color_service_name(app: str, color: str) -> str:
    """``<app>-<color>``: the Service with a fixed selector on one color, what the routes weigh."""
    return f"{app}-{color}"


def stable_service_name(app: str) -> str:
    """The Service on the active color: what in-cluster callers use."""
    return app


def preview_service_name(app: str) -> str:
    """The Service on the idle color: for testing a release before it takes traffic."""
    return f"{app}-preview"


def monitoring_prefix(cluster_name: str) -> str:
    """``broxiva-prod-aks`` -> ``broxiva-prod``: the stem of the environment's monitoring resource names."""
    return cluster_name.removesuffix("-aks")


def certificate_secret_names(environment: str) -> dict[str, str]:
    """Certificate (and TLS Secret) names per certificate: the Gateway serves them, cert-manager issues them."""
    return {"api": f"broxiva-api-tls-{environment}", "web": f"broxiva-web-tls-{environment}"}


DNS_LABEL_MAX = 63


def tag_slug(tag: str) -> str:
    """An image tag as DNS label characters: v1.5.0 -> v1-5-0."""
    slug = re.sub(r"[^a-z0-9-]+", "-", tag.lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug) or "tag"


def release_job_name(app: str, purpose: str, color: str, tag: str) -> str:
    """``<app>-<purpose>-<color>-<tag>``, a DNS label (Job names become a pod label value: at most 63
    characters). A tag too long to fit is cut and followed by a digest of the whole tag, so two tags never share
    a name."""
    head = f"{app}-{purpose}-{color}-"
    slug = tag_slug(tag)
    if len(head) + len(slug) <= DNS_LABEL_MAX:
        return head + slug
    digest = hashlib.sha256(tag.encode()).hexdigest()[:8]
    room = DNS_LABEL_MAX - len(head) - len(digest) - 1
    if room < 1:
        raise ValueError(f"app name {app!r} leaves no room for a tag in a Job name")
    return f"{head}{slug[:room].rstrip('-')}-{digest}"
