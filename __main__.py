"""The Broxiva platform: configuration in, components wired together, outputs out."""

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi

from components import config, monitoring, names
from components.apps.blue_green import BlueGreenService, BlueGreenServiceArgs, GateSettings, ReleaseSetArgs
from components.apps.migrations import Migrations, MigrationsArgs
from components.apps.routes import RoutedApp, Routes, RoutesArgs
from components.apps.traffic import weights
from components.apps.worker import Worker
from components.apps.workload_spec import PodEnvironment
from components.azure import context, dashboards, private_link
from components.azure.alerts import Alerts, AlertsArgs
from components.azure.backups import BackupStore, BackupStoreArgs
from components.azure.cluster import AksCluster, AksClusterArgs
from components.azure.diagnostics import DiagnosedResource, Diagnostics, DiagnosticsArgs
from components.azure.dns import DnsRecords, DnsRecordsArgs, ci_principal_ids, zone_from_bootstrap
from components.azure.environment import AzureEnvironment, AzureEnvironmentArgs
from components.azure.gateway_address import GatewayAddress, GatewayAddressArgs
from components.azure.generated_secrets import GeneratedSecrets, GeneratedSecretsArgs
from components.azure.grafana import Grafana, GrafanaArgs
from components.azure.network import Network, NetworkArgs
from components.azure.postgres import PostgresServer, PostgresServerArgs
from components.azure.prometheus import ManagedPrometheus, ManagedPrometheusArgs
from components.azure.redis import ManagedRedis, ManagedRedisArgs
from components.azure.registry import ContainerRegistry, ContainerRegistryArgs
from components.azure.tracing import Tracing, TracingArgs
from components.azure.vault import SecretVault, SecretVaultArgs
from components.azure.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.config import AppConfig, rules, secrets
from components.k8s.app_namespace import AppNamespace, AppNamespaceArgs, DataService, app_settings
from components.k8s.cert_manager import CertManager, CertManagerArgs, certificate_hosts
from components.k8s.edge import Edge, EdgeArgs
from components.k8s.external_secrets import ExternalSecrets, ExternalSecretsArgs, PullSecret
from components.k8s.scrape import ScrapeTargets, ScrapeTargetsArgs

# Bad configuration stops here, before any resource is declared (the other stacks' files are read for their
# address spaces).
platform = config.load(project_dir=Path(__file__).parent)
cfg = platform.config
# The zone is the bootstrap's (docs/dns.md): read from its stack and checked first. Every Azure resource's
# group name waits for that check, so a bootstrap stack that does not match stops the program with one
# ConfigError before any of them is registered (a check that only the records waited for would come after
# the cluster and the vault had been declared).
bootstrap = pulumi.StackReference("bootstrap", stack_name=cfg.dns.bootstrap_stack)
zone = bootstrap.outputs.apply(
    lambda outputs: zone_from_bootstrap(outputs, reference=cfg.dns.bootstrap_stack, zone_name=cfg.dns.zone_name)
)
azure = context.current(cfg.deployer, bootstrap.outputs.apply(ci_principal_ids))
zones = cfg.cluster.availability_zones
placement = context.Placement(
    resource_group_name=zone.apply(lambda _: cfg.resource_group),
    location=cfg.location,
    tags=context.tags(cfg.environment, cfg.tags),
    subscription_id=azure.subscription_id,
    protect=cfg.protected,
)

# ------------------------------------------------------------------ Azure
env = AzureEnvironment(
    "env",
    AzureEnvironmentArgs(
        placement, log_retention_days=cfg.cluster.log_retention_days, existing_group_id=cfg.adopt.resource_group
    ),
)
site = placement.in_group(env.resource_group_name)
level = cfg.features.monitoring
# Traces at every level: the apps read the connection string from the vault whatever the level, so raising or
# lowering it adds or removes monitoring resources only.
tracing = Tracing(
    "tracing",
    TracingArgs(
        site, component_name=f"{names.monitoring_prefix(cfg.cluster.name)}-insights", workspace_id=env.workspace_id
    ),
)
gateway_ip = GatewayAddress("gateway", GatewayAddressArgs(site, ip_name=f"{cfg.cluster.name}-gateway-ip", zones=zones))
private_groups = ["vault", "redisEnterprise", "blob"] + (["registry"] if cfg.registry.acr_name else [])
postgres_zone = private_link.postgres_zone(cfg.postgres.server_name)
net = Network(
    "network",
    NetworkArgs(
        site,
        network=cfg.network,
        gateway_ip=gateway_ip.ip_address,
        private_zones=(*(private_link.PRIVATE_ZONES[g] for g in private_groups), postgres_zone),
    ),
)
endpoint = private_link.Endpoint(subnet_id=net.endpoint_subnet_id, zone_ids=net.zone_ids)
cluster = AksCluster(
    "cluster",
    AksClusterArgs(
        site,
        cluster=cfg.cluster,
        workspace_id=env.workspace_id,
        gateway_ip_id=gateway_ip.ip_id,
        node_subnet_id=net.node_subnet_id,
        tenant_id=azure.tenant_id,
        deployer=azure.deployer,
        existing_id=cfg.adopt.cluster,
        prometheus_metrics=monitoring.has_prometheus(level),
    ),
)
registry = None
if cfg.registry.acr_name:
    registry = ContainerRegistry(
        "registry",
        ContainerRegistryArgs(
            site,
            registry_name=cfg.registry.acr_name,
            zone_redundant=len(zones) > 1,
            public_network_access=cfg.registry.public_network_access,
            endpoint=endpoint,
            kubelet_object_id=cluster.kubelet_object_id,
            existing_id=cfg.adopt.registry,
        ),
    )
held_secrets = secrets.stack_secrets(cfg, platform.provided_secrets)
generated = GeneratedSecrets(
    "secrets",
    GeneratedSecretsArgs(
        held_secrets,
        settings=cfg.secrets,
        # First made under the vault component (also named "secrets"); the alias keeps every value.
        moved_from=pulumi.create_urn("secrets", "broxiva:azure:SecretVault"),
    ),
)
database = PostgresServer(
    "postgres",
    PostgresServerArgs(
        site,
        postgres=cfg.postgres,
        subnet_id=net.postgres_subnet_id,
        private_zone_id=net.zone_ids[postgres_zone],
        admin_password=generated.values["postgres-password"],
        tenant_id=azure.tenant_id,
    ),
)
cache = ManagedRedis("redis", ManagedRedisArgs(site, redis=cfg.redis, endpoint=endpoint))
backups = BackupStore(
    "backups",
    BackupStoreArgs(
        site,
        backups=cfg.backups,
        zone_redundant=len(zones) > 1,
        geo_redundant=cfg.postgres.geo_redundant_backup,
        endpoint=endpoint,
    ),
)
vault = SecretVault(
    "secrets",
    SecretVaultArgs(
        site,
        key_vault=cfg.key_vault,
        tenant_id=azure.tenant_id,
        secrets=held_secrets,
        values={
            **generated.values,
            "postgres-url": database.url,
            "redis-password": cache.access_key,
            "redis-url": cache.url,
            "appinsights-connection-string": tracing.connection_string,
            **platform.provided_secrets,
        },
        expires=secrets.expiries(held_secrets, cfg.secrets),
        endpoint=endpoint,
        existing_id=cfg.adopt.key_vault,
    ),
)
diagnosed = {
    "cluster": DiagnosedResource("Microsoft.ContainerService/managedClusters", cluster.cluster_id),
    "vault": DiagnosedResource("Microsoft.KeyVault/vaults", vault.vault_id),
    "postgres": DiagnosedResource("Microsoft.DBforPostgreSQL/flexibleServers", database.server_id),
    "redis": DiagnosedResource("Microsoft.Cache/redisEnterprise/databases", cache.database_id),
    "backups": DiagnosedResource(
        "Microsoft.Storage/storageAccounts/blobServices",
        backups.account_id.apply(lambda i: f"{i}/blobServices/default"),
    ),
}
if registry is not None:
    diagnosed["registry"] = DiagnosedResource("Microsoft.ContainerRegistry/registries", registry.registry_id)
Diagnostics("diagnostics", DiagnosticsArgs(workspace_id=env.workspace_id, resources=diagnosed))
if monitoring.has_prometheus(level):
    assert cfg.observability.grafana_name is not None  # config rules require it at this level
    route_weights = {
        app_name: weights(cfg.active_color, cfg.canary_weight, [c for c in names.COLORS if cfg.colors.of(c).tag])
        for app_name in cfg.routed_apps
    }
    prometheus = ManagedPrometheus(
        "prometheus",
        ManagedPrometheusArgs(
            site,
            cluster_id=cluster.cluster_id,
            cluster_name=cfg.cluster.name,
            recording_rules=monitoring.recording_rules(cfg.namespace, route_weights),
        ),
    )

    def dashboard_json(name: str, values: Mapping[str, str]) -> str:
        return dashboards.render(name, {key: values[key] for key in dashboards.constants(dashboards.load(name))})

    dashboard_values = pulumi.Output.all(azure.subscription_id, env.resource_group_name).apply(
        lambda v: {
            "namespace": cfg.namespace,
            "subscription": v[0],
            "resource_group": v[1],
            "postgres_server": cfg.postgres.server_name,
            "redis_cache": cfg.redis.name,
        }
    )
    Grafana(
        "grafana",
        GrafanaArgs(
            site,
            grafana_name=cfg.observability.grafana_name,
            metrics_workspace_id=prometheus.workspace_id,
            admin_group_ids=cfg.cluster.admin_group_object_ids,
            viewer_group_ids=cfg.rbac.reader_group_object_ids,
            deployer=azure.deployer,
            dashboards={
                name: dashboard_values.apply(functools.partial(dashboard_json, name)) for name in dashboards.NAMES
            },
            zone_redundant=len(zones) > 1,
        ),
    )
    if monitoring.has_alerts(level):
        alerts = cfg.observability.alerts
        assert alerts is not None  # config rules require it at this level
        Alerts(
            "alerts",
            AlertsArgs(
                site,
                environment=cfg.environment,
                cluster_id=cluster.cluster_id,
                cluster_name=cfg.cluster.name,
                metrics_workspace_id=prometheus.workspace_id,
                rules=monitoring.alert_rules(cfg.namespace, sorted(cfg.routed_apps)),
                metric_alerts=monitoring.METRIC_ALERTS,
                targets={"postgres": database.server_id, "redis": cache.cache_id},
                severities=rules.effective_severities(cfg),
                routes=alerts.routes,
                emails=alerts.emails,
                slack_webhook_url=platform.provided_secrets.get("alert-slack-webhook-url"),
                pagerduty_integration_key=platform.provided_secrets.get("alert-pagerduty-integration-key"),
            ),
        )
records = DnsRecords(
    "dns",
    DnsRecordsArgs(
        placement,
        dns=cfg.dns,
        zone=zone,
        gateway_ip=gateway_ip.ip_address,
        challenge_hosts=tuple(host for hosts in certificate_hosts(cfg.domains).values() for host in hosts),
    ),
)


def operator_identity(
    name: str, namespace: str, service_account: str, role: str, scope=None, scopes=None
) -> WorkloadIdentity:
    """An in-cluster operator's Entra identity, federated to its service account through the cluster's issuer."""
    return WorkloadIdentity(
        name,
        WorkloadIdentityArgs(
            site,
            oidc_issuer_url=cluster.oidc_issuer_url,
            namespace=namespace,
            service_account=service_account,
            role=role,
            scope=scope,
            scopes=scopes or {},
        ),
    )


eso_identity = operator_identity(
    "external-secrets", cfg.namespace, names.KEYVAULT_READER_SERVICE_ACCOUNT, "Key Vault Secrets User", vault.vault_id
)
cert_manager_identity = operator_identity(
    "cert-manager",
    names.CERT_MANAGER_NAMESPACE,
    names.CERT_MANAGER_SERVICE_ACCOUNT,
    "DNS Zone Contributor",
    # Its own _acme-challenge TXT record sets only: the zone stays the bootstrap's.
    scopes={
        name.removeprefix("_acme-challenge").strip(".") or "apex": rid
        for name, rid in records.challenge_record_ids.items()
    },
)

# ------------------------------------------------------------------ inside the cluster
# The Kubernetes provider is given once per component; every child inherits it.
in_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})
app_ns = AppNamespace(
    "app",
    AppNamespaceArgs(
        namespace=cfg.namespace,
        environment=cfg.environment,
        apps=cfg.apps,
        rbac=cfg.rbac,
        settings=app_settings(cfg, redis_host=cache.host, redis_port=cache.port),
        data_services=(
            DataService("postgres", cfg.network.subnets.postgres, cfg.postgres.port),
            DataService("redis", cfg.network.subnets.private_endpoints, cfg.redis.port),
        ),
    ),
    opts=in_cluster,
)
certificates = names.certificate_secret_names(cfg.environment)
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
        secrets_version=secrets.secrets_version(cfg.secrets),
        pull_secret=PullSecret(cfg.registry.pull_token_secret, cfg.registry.host, cfg.registry.pull_username)
        if cfg.registry.pull_token_secret
        else None,
    ),
    # A rotation's re-sync comes after the vault holds the new values: the secrets are the vault resource's
    # children, which a dependency on the vault component alone does not reach.
    opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=vault.secrets)),
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
        zone_resource_group=records.zone_resource_group,
        subscription_id=records.zone_subscription_id,
        identity_client_id=cert_manager_identity.client_id,
        gateway_name=edge.gateway_name,
        replicas=cfg.addons.controller_replicas,
    ),
    # The Envoy Gateway release brings the Gateway API CRDs cert-manager's Gateway support needs at start.
    opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[edge.release])),
)

# ------------------------------------------------------------------ the apps, blue and green
pods = PodEnvironment(
    registry=cfg.registry.server,
    config_map=app_ns.config_map_name,
    secret=external_secrets.secret_name,
    pull_secret=external_secrets.pull_secret_name,
    spread_zones=len(zones) > 1,
    secrets_version=secrets.secrets_version(cfg.secrets),
    secrets_version_key=external_secrets.version_key,
    environment=cfg.environment,
)
app_opts = pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[external_secrets, app_ns]))
migrations = Migrations(
    "migrations", MigrationsArgs(apps=cfg.apps, colors=cfg.colors, namespace=app_ns.namespace, pods=pods), opts=app_opts
)
gate = GateSettings(
    image=f"{cfg.registry.server}/{cfg.release.gate_image}", timeout_seconds=cfg.release.gate_timeout_seconds
)
gates: dict[str, list[pulumi.Resource]] = {}
routed: list[RoutedApp] = []


def release_args(app_name: str, app: AppConfig, extra_waits: Mapping[str, Sequence[pulumi.Resource]]) -> ReleaseSetArgs:
    waits: dict[str, list[pulumi.Resource]] = {
        color: [*(migrations.jobs.get(color, []) if app.database else []), *extra_waits.get(color, [])]
        for color in names.COLORS
    }
    return ReleaseSetArgs(
        app_name=app_name,
        app=app,
        colors=cfg.colors,
        namespace=app_ns.namespace,
        pods=pods,
        disruption_budgets=len(zones) > 1,
        active_color=cfg.active_color,
        waits_for=waits,
    )


for app_name, app in sorted(cfg.routed_apps.items()):
    service = BlueGreenService(
        app_name,
        BlueGreenServiceArgs(**vars(release_args(app_name, app, {})), canary_weight=cfg.canary_weight, gate=gate),
        opts=app_opts,
    )
    for color, job in service.gate_jobs.items():
        gates.setdefault(color, []).append(job)
    routed.append(
        RoutedApp(
            name=app_name,
            hosts=tuple(getattr(cfg.domains, host) for host in app.hosts),
            path_prefix=app.path_prefix,
            color_services=service.color_services,
            gates=tuple(service.gate_jobs.values()),
        )
    )
# Workers of a color take jobs only once that color's routed apps have passed their gates.
for app_name, app in sorted(cfg.apps.items()):
    if app.kind == "worker":
        Worker(app_name, release_args(app_name, app, gates), opts=app_opts)
Routes(
    "routes",
    RoutesArgs(
        namespace=app_ns.namespace,
        gateway_name=edge.gateway_name,
        listeners=edge.listeners,
        apps=routed,
        active_color=cfg.active_color,
        canary_weight=cfg.canary_weight,
        domains=cfg.domains,
        stickiness=cfg.canary_stickiness,
    ),
    opts=in_cluster,
)

if monitoring.has_prometheus(level):
    # The add-on brings the ServiceMonitor kinds with the cluster's metrics profile; the add-ons' metrics
    # Services come with their releases. Raising a running stack to full: the preview answers the
    # monitors from their inputs while their kinds are unknown to the cluster, and `up` creates them after
    # the cluster's update (the provider's credentials are read from the updated cluster), retrying while the
    # kinds register (pulumi-kubernetes provider/pkg/provider/provider.go Create: skipPreview when the kind
    # is unknown; provider/pkg/await/await.go Creation retries IsNoMatchError). The releases are named
    # themselves: they are children of their namespaces, which a dependency on a component does not reach.
    ScrapeTargets(
        "scrape",
        ScrapeTargetsArgs(app_namespace=app_ns.namespace, routed_apps=sorted(cfg.routed_apps)),
        opts=pulumi.ResourceOptions.merge(
            in_cluster,
            pulumi.ResourceOptions(depends_on=[external_secrets.release, edge.release, cert_manager.release]),
        ),
    )

pulumi.export("environment", cfg.environment)
pulumi.export("resourceGroup", env.resource_group_name)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("gatewayIp", gateway_ip.ip_address)
pulumi.export("keyVaultUri", vault.vault_uri)
pulumi.export("postgresHost", database.host)
pulumi.export("redisHost", cache.host)
pulumi.export(
    "urls",
    {
        "web": f"https://{cfg.domains.web}",
        "api": f"https://{cfg.domains.api}",
        "admin": f"https://{cfg.domains.admin}",
    },
)
pulumi.export("activeColor", cfg.active_color)
pulumi.export("colorTags", {color: cfg.colors.of(color).tag for color in names.COLORS})
pulumi.export("canaryWeight", cfg.canary_weight)
