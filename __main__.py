"""The Broxiva platform: configuration in, components wired together, outputs out."""

import pulumi

from components import config, context
from components.cluster import AksCluster, AksClusterArgs
from components.dns import DnsRecords, DnsRecordsArgs
from components.environment import AzureEnvironment, AzureEnvironmentArgs
from components.gateway_address import GatewayAddress, GatewayAddressArgs
from components.registry import ContainerRegistry, ContainerRegistryArgs
from components.vault import SecretVault, SecretVaultArgs
from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs

# Bad configuration stops here, before any resource is declared.
platform = config.load()
cfg = platform.config
azure = context.current(cfg.deployer)
tags = context.tags(cfg.environment, dict(cfg.tags))
protect = cfg.protected

env = AzureEnvironment(
    "env",
    AzureEnvironmentArgs(
        resource_group_name=cfg.resource_group,
        location=cfg.location,
        log_retention_days=cfg.cluster.log_retention_days,
        tags=tags,
        protect=protect,
    ),
)
gateway_ip = GatewayAddress(
    "gateway",
    GatewayAddressArgs(
        resource_group_name=env.resource_group_name,
        ip_name=f"{cfg.cluster.name}-gateway-ip",
        location=cfg.location,
        zones=cfg.cluster.availability_zones,
        tags=tags,
        protect=protect,
    ),
)
cluster = AksCluster(
    "cluster",
    AksClusterArgs(
        cluster=cfg.cluster,
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        workspace_id=env.workspace_id,
        gateway_ip_id=gateway_ip.ip_id,
        tenant_id=azure.tenant_id,
        subscription_id=azure.subscription_id,
        deployer_object_id=azure.deployer_object_id,
        deployer_principal_type=azure.deployer_principal_type,
        tags=tags,
        protect=protect,
    ),
)
if cfg.registry.acr_name:
    ContainerRegistry(
        "registry",
        ContainerRegistryArgs(
            registry_name=cfg.registry.acr_name,
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            zone_redundant=len(cfg.cluster.availability_zones) > 1,
            kubelet_object_id=cluster.kubelet_object_id,
            subscription_id=azure.subscription_id,
            tags=tags,
            protect=protect,
        ),
    )
vault = SecretVault(
    "secrets",
    SecretVaultArgs(
        config=cfg,
        resource_group_name=env.resource_group_name,
        tenant_id=azure.tenant_id,
        subscription_id=azure.subscription_id,
        deployer_object_id=azure.deployer_object_id,
        deployer_principal_type=azure.deployer_principal_type,
        provided=platform.provided_secrets,
        tags=tags,
        protect=protect,
    ),
)
records = DnsRecords(
    "dns",
    DnsRecordsArgs(
        dns=cfg.dns,
        gateway_ip=gateway_ip.ip_address,
        subscription_id=azure.subscription_id,
        tags=tags,
        protect=protect,
    ),
)
eso_identity = WorkloadIdentity(
    "external-secrets",
    WorkloadIdentityArgs(
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        oidc_issuer_url=cluster.oidc_issuer_url,
        namespace=cfg.namespace,
        service_account="keyvault-reader",
        role="Key Vault Secrets User",
        scope=vault.vault_id,
        subscription_id=azure.subscription_id,
        tags=tags,
    ),
)
cert_manager_identity = WorkloadIdentity(
    "cert-manager",
    WorkloadIdentityArgs(
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        oidc_issuer_url=cluster.oidc_issuer_url,
        namespace="cert-manager",
        service_account="cert-manager",
        role="DNS Zone Contributor",
        scope=records.zone_id,
        subscription_id=azure.subscription_id,
        tags=tags,
    ),
)

pulumi.export("environment", cfg.environment)
pulumi.export("resourceGroup", env.resource_group_name)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("gatewayIp", gateway_ip.ip_address)
pulumi.export("keyVaultUri", vault.vault_uri)
pulumi.export(
    "urls",
    {
        "web": f"https://{cfg.domains.web}",
        "api": f"https://{cfg.domains.api}",
        "admin": f"https://{cfg.domains.admin}",
    },
)
