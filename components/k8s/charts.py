"""Every Helm chart the platform installs, pinned to an exact version from its official repository."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class Chart:
    chart: str
    """Chart name, or the full oci:// reference for OCI charts."""
    version: str
    """Exact chart version."""
    repository: str | None
    """HTTP chart repository; None for an oci:// chart."""
    release: str
    """Helm release name (what ``helm list`` shows; renaming it would install a second copy)."""


EXTERNAL_SECRETS = Chart("external-secrets", "2.10.0", "https://charts.external-secrets.io", "external-secrets")
CERT_MANAGER = Chart("cert-manager", "v1.21.2", "https://charts.jetstack.io", "cert-manager")
ENVOY_GATEWAY = Chart("oci://docker.io/envoyproxy/gateway-helm", "v1.9.3", None, "envoy-gateway")
# The Gateway API v1.6 and Envoy Gateway CRDs, as templates. gateway-helm ships them in a subchart's crds/
# folder, which Helm installs once and never upgrades (Helm's CRD policy); this chart upgrades them with its
# release (envoyproxy/gateway charts/gateway-crds-helm; gateway-helm's crds.enabled turns the subchart off).
ENVOY_GATEWAY_CRDS = Chart("oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.3", None, "envoy-gateway-crds")

ALL: tuple[Chart, ...] = (EXTERNAL_SECRETS, CERT_MANAGER, ENVOY_GATEWAY, ENVOY_GATEWAY_CRDS)


@dataclass(frozen=True)
class CrdRelease:
    """A chart of CRDs released before an add-on's own chart, in its namespace."""

    suffix: str
    """Logical name suffix of the release (``{name}-{suffix}``)."""
    chart: Chart
    """The pinned CRD chart."""
    values: dict
    """Its values: which CRDs and which channel."""


def add_on(
    name: str,
    release_suffix: str,
    chart: Chart,
    namespace: str,
    values: dict,
    parent: pulumi.Resource,
    *,
    level: str = "restricted",
    depends_on: pulumi.Input[Sequence[pulumi.Input[pulumi.Resource]] | pulumi.Resource] | None = None,
    crds: CrdRelease | None = None,
) -> k8s.helm.v3.Release:
    """An add-on in its own namespace (``{name}-namespace``, Pod Security ``level``): the pinned chart's
    release ``{name}-{release_suffix}``, a child of the namespace, so that it goes before the namespace.
    With ``crds``, that chart is released first and the add-on's release waits for it."""
    ns = restricted_namespace(f"{name}-namespace", namespace, pulumi.ResourceOptions(parent=parent), level=level)
    if crds is not None:
        crd_release = release(
            f"{name}-{crds.suffix}",
            crds.chart,
            namespace=ns.metadata.name,
            values=crds.values,
            opts=pulumi.ResourceOptions(parent=ns, depends_on=depends_on),
        )
        depends_on = [crd_release]
    return release(
        f"{name}-{release_suffix}",
        chart,
        namespace=ns.metadata.name,
        values=values,
        opts=pulumi.ResourceOptions(parent=ns, depends_on=depends_on),
    )


def release(
    name: str,
    chart: Chart,
    *,
    namespace: pulumi.Input[str],
    values: dict,
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm release (hooks run, Helm's own upgrade semantics) of a pinned chart."""
    return k8s.helm.v3.Release(
        name,
        name=chart.release,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository) if chart.repository else None,
        namespace=namespace,
        create_namespace=False,
        atomic=True,
        cleanup_on_fail=True,
        max_history=10,
        timeout=900,
        values=values,
        opts=opts,
    )


def restricted_namespace(name: str, namespace: str, opts: pulumi.ResourceOptions, level: str = "restricted"):
    """A namespace for an add-on, with Pod Security enforced at ``level`` and warned at restricted."""
    return k8s.core.v1.Namespace(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=namespace,
            labels={
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        ),
        opts=opts,
    )


def name_of(resource: k8s.apiextensions.CustomResource) -> pulumi.Output[str]:
    """metadata.name of a custom resource, carrying the dependency on it (its metadata is untyped)."""
    return resource.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)


def custom_resource(
    name: str,
    api_version: str,
    kind: str,
    object_name: pulumi.Input[str],
    namespace: pulumi.Input[str] | None,
    *,
    spec: pulumi.Input[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A custom resource named ``object_name`` (in ``namespace``, or cluster-scoped when None)."""
    return k8s.apiextensions.CustomResource(
        name,
        api_version=api_version,
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace),
        spec=spec,
        opts=opts,
    )
