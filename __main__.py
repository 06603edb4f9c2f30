"""The Broxiva platform: configuration in, components wired together, outputs out."""

import pulumi

from components import app_namespace as app_namespace_module
from components import cert_manager as cert_manager_module
from components import config, context
from components import external_secrets as external_secrets_module
from components.app_namespace import AppNamespace, AppNamespaceArgs
from components.blue_green import BlueGreenService, BlueGreenServiceArgs, ReleaseSetArgs
from components.cert_manager import CertManager, CertManagerArgs, certificate_names
from components.cluster import AksCluster, AksClusterArgs
from components.dns import DnsRecords, DnsRecordsArgs
from components.edge import Edge, EdgeArgs
from components.environment import AzureEnvironment, AzureEnvironmentArgs
from components.external_secrets import ExternalSecrets, ExternalSecretsArgs, PullSecret
from components.gateway_address import GatewayAddress, GatewayAddressArgs
from components.registry import ContainerRegistry, ContainerRegistryArgs
from components.routes import Routes, RoutesArgs
from components.vault import SecretVault, SecretVaultArgs
from components.worker import Worker
from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.workload_spec import PodEnvironment

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
        location=cfg.location,
        tags=tags,
        protect=protect,
    ),
)


def operator_identity(name: str, namespace: str, service_account: str, role: str, scope) -> WorkloadIdentity:
    """An in-cluster operator's Entra identity, federated to its service account through the cluster's issuer."""
    return WorkloadIdentity(
        name,
        WorkloadIdentityArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            oidc_issuer_url=cluster.oidc_issuer_url,
            namespace=namespace,
            service_account=service_account,
            role=role,
            scope=scope,
            subscription_id=azure.subscription_id,
            tags=tags,
        ),
    )


eso_identity = operator_identity(
    "external-secrets",
    cfg.namespace,
    external_secrets_module.READER_SERVICE_ACCOUNT,
    "Key Vault Secrets User",
    vault.vault_id,
)
cert_manager_identity = operator_identity(
    "cert-manager",
    cert_manager_module.NAMESPACE,
    cert_manager_module.SERVICE_ACCOUNT,
    "DNS Zone Contributor",
    records.zone_id,
)

# ------------------------------------------------------------------ inside the cluster
# The Kubernetes provider is given once per component; every child inherits it.
in_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})
app_ns = AppNamespace("app", AppNamespaceArgs(config=cfg), opts=in_cluster)
certificates = certificate_names(cfg.environment)
edge = Edge(
    "edge",
    EdgeArgs(
        app_namespace=app_ns.namespace,
        domains=cfg.domains,
        web_certificate_secret=certificates["web"],
        api_certificate_secret=certificates["api"],
        public_ip_name=gateway_ip.ip_name,
        public_ip_resource_group=gateway_ip.resource_group_name,
        rate_limiting=cfg.features.rate_limiting,
        proxy_replicas=cfg.addons.proxy_replicas,
        controller_replicas=cfg.addons.controller_replicas,
    ),
    opts=in_cluster,
)
registry_host = cfg.registry.server.split("/", 1)[0]
external_secrets = ExternalSecrets(
    "external-secrets",
    ExternalSecretsArgs(
        app_namespace=app_ns.namespace,
        identity_client_id=eso_identity.client_id,
        tenant_id=azure.tenant_id,
        vault_uri=vault.vault_uri,
        app_env=vault.app_env,
        refresh_interval=cfg.secrets.refresh_interval,
        replicas=cfg.addons.controller_replicas,
        pull_secret=PullSecret(cfg.registry.pull_token_secret, registry_host, cfg.registry.pull_username)
        if cfg.registry.pull_token_secret
        else None,
    ),
    opts=in_cluster,
)
cert_manager = CertManager(
    "cert-manager",
    CertManagerArgs(
        app_namespace=app_ns.namespace,
        environment=cfg.environment,
        domains=cfg.domains,
        issuer=cfg.tls.issuer,
        acme_email=cfg.tls.acme_email,
        zone=cfg.dns.zone_name,
        zone_resource_group=cfg.dns.zone_resource_group,
        subscription_id=azure.subscription_id,
        identity_client_id=cert_manager_identity.client_id,
        gateway_name=edge.gateway_name,
        gateway_release=edge.release,
        replicas=cfg.addons.controller_replicas,
    ),
    opts=in_cluster,
)

# ------------------------------------------------------------------ the apps, blue and green
pods = PodEnvironment(
    registry=cfg.registry.server,
    config_map=app_namespace_module.CONFIG_MAP_NAME,
    secret=external_secrets_module.TARGET_SECRET,
    pull_secret=external_secrets_module.PULL_SECRET_NAME if cfg.registry.pull_token_secret else None,
    spread_zones=len(cfg.cluster.availability_zones) > 1,
)
app_opts = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=[external_secrets, app_ns])
services = []
for app_name, app in sorted(cfg.apps.items()):
    release_args = dict(
        app_name=app_name,
        app=app,
        colors=cfg.colors,
        namespace=app_ns.namespace,
        pods=pods,
        disruption_budgets=len(cfg.cluster.availability_zones) > 1,
    )
    if app.kind == "service":
        services.append(
            BlueGreenService(
                app_name, BlueGreenServiceArgs(**release_args, active_color=cfg.active_color), opts=app_opts
            )
        )
    else:
        Worker(app_name, ReleaseSetArgs(**release_args), opts=app_opts)
Routes(
    "routes",
    RoutesArgs(
        config=cfg,
        namespace=app_ns.namespace,
        gateway_name=edge.gateway_name,
        listeners=edge.listeners,
        depends_on=services,
    ),
    opts=in_cluster,
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
pulumi.export("activeColor", cfg.active_color)
pulumi.export("colorTags", {color: cfg.colors.of(color).tag for color in ("blue", "green")})
pulumi.export("canaryWeight", cfg.canary_weight)
