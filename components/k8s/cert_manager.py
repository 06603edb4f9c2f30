"""cert-manager with Let's Encrypt: DNS-01 through Azure DNS (workload identity), HTTP-01 through the Gateway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config import DomainsConfig
from ..names import (
    CERT_MANAGER_NAMESPACE,
    CERT_MANAGER_SERVICE_ACCOUNT,
    GATEWAY_API_GROUP,
    HTTP_LISTENER,
    certificate_secret_names,
)
from ..options import children_depends_on
from . import charts

API_VERSION = "cert-manager.io/v1"
ACME_SERVERS = {
    "letsencrypt-production": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


def certificate_hosts(domains: DomainsConfig) -> dict[str, list[str]]:
    """The API certificate covers the API host; the web one the web, admin, www and wildcard names."""
    web = [domains.web, domains.admin, *([domains.www] if domains.www else []), domains.wildcard]
    return {"api": [domains.api], "web": list(dict.fromkeys(web))}


def acme_solvers(
    *,
    zone: str,
    zone_resource_group: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    client_id: pulumi.Input[str],
    gateway: dict[str, Any],
) -> list[dict[str, Any]]:
    """DNS-01 for every name in the zone (wildcards need it); HTTP-01 through the Gateway for anything else."""
    return [
        {
            "selector": {"dnsZones": [zone]},
            "dns01": {
                # hostedZoneName set: the solver reads no zone, it only gets, writes and deletes the
                # _acme-challenge TXT record set (cert-manager pkg/issuer/acme/dns/azuredns/azuredns.go
                # getHostedZoneName, updateTXTRecord), so DNS Zone Contributor on those record sets suffices.
                "azureDNS": {
                    "subscriptionID": subscription_id,
                    "resourceGroupName": zone_resource_group,
                    "hostedZoneName": zone,
                    "environment": "AzurePublicCloud",
                    "managedIdentity": {"clientID": client_id},
                }
            },
        },
        # ClusterIP: the app namespace's quota allows no NodePort Services.
        {"http01": {"gatewayHTTPRoute": {"serviceType": "ClusterIP", "parentRefs": [gateway]}}},
    ]


@dataclass(frozen=True)
class CertManagerArgs:
    app_namespace: pulumi.Input[str]
    """Namespace of the certificates (and the Gateway that serves them)."""
    environment: str
    """Environment name (certificate names)."""
    domains: DomainsConfig
    """Hosts to certify."""
    issuer: str
    """ClusterIssuer the certificates use."""
    acme_email: str
    """Let's Encrypt account e-mail."""
    zone: str
    """DNS zone for DNS-01."""
    zone_resource_group: pulumi.Input[str]
    """Resource group of the zone (the bootstrap's)."""
    subscription_id: pulumi.Input[str]
    """Subscription of the zone."""
    identity_client_id: pulumi.Input[str]
    """Client ID of the identity federated to cert-manager's service account (DNS Zone Contributor on this
    stack's _acme-challenge record sets only)."""
    gateway_name: pulumi.Input[str]
    """Gateway whose HTTP listener serves HTTP-01 challenges."""
    replicas: int
    """Controller replicas."""


class CertManager(pulumi.ComponentResource):
    """cert-manager (Helm), the two Let's Encrypt ClusterIssuers, and the environment's certificates."""

    certificate_secrets: dict[str, str]
    issuer_name: pulumi.Output[str]
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:k8s:CertManager", name, None, opts)
        self.release = charts.add_on(
            name,
            "controller",
            charts.CERT_MANAGER,
            CERT_MANAGER_NAMESPACE,
            {
                "crds": {"enabled": True, "keep": True},
                "replicaCount": args.replicas,
                "podDisruptionBudget": {"enabled": args.replicas > 1},
                "podLabels": {"azure.workload.identity/use": "true"},
                "serviceAccount": {
                    "name": CERT_MANAGER_SERVICE_ACCOUNT,
                    "annotations": {"azure.workload.identity/client-id": args.identity_client_id},
                },
                "config": {
                    "apiVersion": "controller.config.cert-manager.io/v1alpha1",
                    "kind": "ControllerConfiguration",
                    "gatewayAPI": {"enabled": True},
                },
                # Check DNS-01 propagation against public resolvers, not the cluster's.
                "dns01RecursiveNameservers": "1.1.1.1:53,8.8.8.8:53",
                "dns01RecursiveNameserversOnly": True,
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            },
            # cert-manager's Gateway API support needs the Gateway API CRDs when it starts: the component's
            # depends_on (the Envoy Gateway release that brings them) is handed to the release, because
            # children do not inherit a component's depends_on.
            self,
            depends_on=children_depends_on(opts),
        )
        crd_ready = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        gateway_ref = {
            "group": GATEWAY_API_GROUP,
            "kind": "Gateway",
            "name": args.gateway_name,
            "namespace": args.app_namespace,
            "sectionName": HTTP_LISTENER,
        }
        issuers = {}
        for issuer_name, server in ACME_SERVERS.items():
            issuers[issuer_name] = charts.custom_resource(
                f"{name}-{issuer_name}",
                API_VERSION,
                "ClusterIssuer",
                issuer_name,
                None,
                spec={
                    "acme": {
                        "server": server,
                        "email": args.acme_email,
                        "privateKeySecretRef": {"name": f"{issuer_name}-account-key"},
                        "solvers": acme_solvers(
                            zone=args.zone,
                            zone_resource_group=args.zone_resource_group,
                            subscription_id=args.subscription_id,
                            client_id=args.identity_client_id,
                            gateway=gateway_ref,
                        ),
                    }
                },
                opts=crd_ready,
            )
        issuer = issuers[args.issuer]
        names = certificate_secret_names(args.environment)
        hosts = certificate_hosts(args.domains)
        for role in ("api", "web"):
            charts.custom_resource(
                f"{name}-{role}-certificate",
                API_VERSION,
                "Certificate",
                names[role],
                args.app_namespace,
                spec={
                    "secretName": names[role],
                    "dnsNames": hosts[role],
                    "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": charts.name_of(issuer)},
                    "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                    "renewBefore": "720h",
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, issuer]),
            )
        self.certificate_secrets = names
        self.issuer_name = charts.name_of(issuer)
        self.register_outputs({"issuer_name": self.issuer_name})
