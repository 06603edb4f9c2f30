"""The AKS cluster, its identities and access, and the Kubernetes provider built from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import containerservice as aks
from pulumi_azure_native import managedidentity

from ..config import ClusterConfig, NodePool
from ..names import POOL_LABEL, SYSTEM_POOL, WORKLOAD_POOL
from ..options import removable
from . import kubeconfig as kubeconfig_tools
from . import roles
from .context import Placement, Principal, resource_group_of

# AKS names these two maintenance configurations itself; other names are not honoured.
_AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
_NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"


@dataclass(frozen=True)
class AksClusterArgs:
    placement: Placement
    """Group, region, tags, subscription; protect applies to the cluster itself."""
    cluster: ClusterConfig
    """Validated cluster settings of the stack."""
    workspace_id: pulumi.Input[str]
    """Log Analytics workspace that Container Insights sends to."""
    gateway_ip_id: pulumi.Input[str]
    """Static public IP the Gateway's load balancer uses; the control plane identity may use its group."""
    node_subnet_id: pulumi.Input[str]
    """The VNet subnet the nodes (and a private API server endpoint) get their addresses from."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the cluster's Azure RBAC."""
    deployer: Principal
    """Principal running pulumi; made RBAC Cluster Admin so the program can manage Kubernetes objects."""
    existing_id: str | None
    """Resource ID of the cluster if it already exists (adopt.cluster): imported, not created."""
    prometheus_metrics: bool = False
    """Run the managed Prometheus metrics add-on (monitoring level full and above)."""


# kube-state-metrics exports no object labels unless listed: the pods' and Deployments' app and color let
# the rules and dashboards join kube-state-metrics series to the apps' own.
KUBE_STATE_METRICS_LABELS = "pods=[app,color],deployments=[app,color]"


def metrics_profile(enabled: bool) -> aks.ManagedClusterAzureMonitorProfileArgs:
    """The metrics add-on, on or explicitly off (so lowering the monitoring level turns it off)."""
    return aks.ManagedClusterAzureMonitorProfileArgs(
        metrics=aks.ManagedClusterAzureMonitorProfileMetricsArgs(
            enabled=enabled,
            kube_state_metrics=aks.ManagedClusterAzureMonitorProfileKubeStateMetricsArgs(
                metric_labels_allowlist=KUBE_STATE_METRICS_LABELS
            )
            if enabled
            else None,
        )
    )


def _pool_profile(
    pool: NodePool, *, name: str, mode: str, zones: tuple[str, ...], subnet_id: pulumi.Input[str]
) -> dict:
    disk_type, disk_size = pool.os_disk
    return {
        "vm_size": pool.vm_size,
        "count": pool.min_count,
        "enable_auto_scaling": True,
        "min_count": pool.min_count,
        "max_count": pool.max_count,
        "max_pods": pool.max_pods,
        "os_disk_size_gb": disk_size,
        "os_disk_type": disk_type,
        # Temp disks and caches are encrypted too, not just the managed disks (needs the subscription feature
        # Microsoft.Compute/EncryptionAtHost, README "Deploying for real").
        "enable_encryption_at_host": True,
        "vnet_subnet_id": subnet_id,
        "os_type": "Linux",
        "os_sku": "AzureLinux",
        "type": "VirtualMachineScaleSets",
        "mode": mode,
        "availability_zones": list(zones) or None,
        "node_taints": ["CriticalAddonsOnly=true:NoSchedule"] if pool.critical_addons_only else None,
        "node_labels": {POOL_LABEL: name},
        "upgrade_settings": aks.AgentPoolUpgradeSettingsArgs(max_surge="33%"),
    }


def api_server_access(cfg: ClusterConfig) -> aks.ManagedClusterAPIServerAccessProfileArgs | None:
    """The API server's reach (docs/network.md): public answers any address (Entra ID sign-in only),
    authorizedRanges only the listed ranges, private only a private endpoint in the node subnet, resolved
    through an AKS-managed private zone."""
    if cfg.api_server_access == "authorizedRanges":
        return aks.ManagedClusterAPIServerAccessProfileArgs(
            authorized_ip_ranges=list(cfg.api_server_authorized_ip_ranges)
        )
    if cfg.api_server_access == "private":
        return aks.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=True, private_dns_zone="system", enable_private_cluster_public_fqdn=False
        )
    return None


def _maintenance_window(cfg: ClusterConfig) -> aks.MaintenanceWindowArgs:
    window = cfg.maintenance_window
    return aks.MaintenanceWindowArgs(
        schedule=aks.ScheduleArgs(weekly=aks.WeeklyScheduleArgs(day_of_week=window.day_of_week, interval_weeks=1)),
        duration_hours=window.duration_hours,
        start_time=window.start_time,
        utc_offset=window.utc_offset,
    )


def _kubelet_object_id(profile: Mapping[str, aks.outputs.UserAssignedIdentityManagedClusterResponse] | None) -> str:
    """The object ID of the kubelet identity AKS reports ("" while it reports none)."""
    kubelet = (profile or {}).get("kubeletidentity")
    return (kubelet.object_id or "") if kubelet else ""


class AksCluster(pulumi.ComponentResource):
    """An AKS cluster as the platform expects it: Entra ID + Azure RBAC, no local accounts,
    workload identity, Azure CNI overlay with Cilium, Container Insights, managed upgrades."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubelet_object_id: pulumi.Output[str]
    control_plane_principal_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:AksCluster", name, None, opts)
        cfg = args.cluster
        where = args.placement
        child = pulumi.ResourceOptions(parent=self)

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane",
            **where.located(),
            opts=child,
        )
        # The cloud provider attaches the Gateway's load balancer to the pre-created static IP, which lives
        # outside the node resource group. It finds the IP by listing the public IPs of the group named in
        # the Service annotation, so the control plane identity needs Network Contributor on that group, not
        # just on the IP (AKS "Use a static public IP address" guide; cloud-provider-azure
        # pkg/provider/azure_publicip_repo.go lists per resource group). Otherwise the Service stays Pending.
        ip_access = roles.assign(
            f"{name}-gateway-ip-network-contributor",
            scope=pulumi.Output.from_input(args.gateway_ip_id).apply(resource_group_of),
            role="Network Contributor",
            principal=Principal.of_identity(identity.principal_id),
            subscription_id=where.subscription_id,
            opts=child,
        )

        # Bring-your-own subnet: the control plane identity joins nodes and load balancers to it
        # (AKS "Use your own VNet": Network Contributor on the subnet, or the create fails).
        subnet_access = roles.assign(
            f"{name}-node-subnet-network-contributor",
            scope=args.node_subnet_id,
            role="Network Contributor",
            principal=Principal.of_identity(identity.principal_id),
            subscription_id=where.subscription_id,
            opts=child,
        )
        system = _pool_profile(
            cfg.system_pool,
            name=SYSTEM_POOL,
            mode="System",
            zones=cfg.availability_zones,
            subnet_id=args.node_subnet_id,
        )
        managed = aks.ManagedCluster(
            f"{name}-aks",
            resource_name_=cfg.name,
            resource_group_name=where.resource_group_name,
            location=where.location,
            dns_prefix=cfg.name,
            kubernetes_version=cfg.kubernetes_version,
            sku=aks.ManagedClusterSKUArgs(name="Base", tier=cfg.tier),
            identity=aks.ManagedClusterIdentityArgs(
                type=aks.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            agent_pool_profiles=[aks.ManagedClusterAgentPoolProfileArgs(name=SYSTEM_POOL, **system)],
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=aks.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                tenant_id=args.tenant_id,
                admin_group_object_ids=list(cfg.admin_group_object_ids) or None,
            ),
            oidc_issuer_profile=aks.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=aks.ManagedClusterSecurityProfileArgs(
                workload_identity=aks.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                image_cleaner=aks.ManagedClusterSecurityProfileImageCleanerArgs(
                    enabled=cfg.image_cleaner, interval_hours=168
                ),
            ),
            network_profile=aks.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_dataplane="cilium",
                network_policy="cilium",
                load_balancer_sku="standard",
                outbound_type="loadBalancer",
                pod_cidr=cfg.pod_cidr,
                service_cidr=cfg.service_cidr,
                dns_service_ip=cfg.dns_service_ip,
            ),
            addon_profiles={
                "omsagent": aks.ManagedClusterAddonProfileArgs(
                    enabled=True,
                    config={"logAnalyticsWorkspaceResourceID": args.workspace_id, "useAADAuth": "true"},
                ),
                "azurepolicy": aks.ManagedClusterAddonProfileArgs(enabled=cfg.azure_policy),
            },
            azure_monitor_profile=metrics_profile(args.prometheus_metrics),
            auto_upgrade_profile=aks.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="patch", node_os_upgrade_channel="NodeImage"
            ),
            api_server_access_profile=api_server_access(cfg),
            tags=where.tags,
            opts=where.kept(
                self,
                depends_on=[ip_access, subnet_access],
                import_=args.existing_id,
                # The cluster autoscaler owns the node count; a PUT with the initial count would fight it.
                # https://github.com/pulumi/pulumi-azure-native/issues/4264 (pool changes go per pool).
                ignore_changes=["agentPoolProfiles[0].count"],
            ),
        )

        workload = cfg.workload_pool
        aks.AgentPool(
            f"{name}-workload-pool",
            agent_pool_name=WORKLOAD_POOL,
            resource_group_name=where.resource_group_name,
            resource_name_=managed.name,
            **_pool_profile(
                workload,
                name=WORKLOAD_POOL,
                mode="User",
                zones=cfg.availability_zones,
                subnet_id=args.node_subnet_id,
            ),
            tags=where.tags,
            # Children inherit protect from their parent; only the cluster itself is protected.
            opts=removable(managed, ignore_changes=["count"]),
        )
        for role, config_name in (
            ("auto-upgrade", _AUTO_UPGRADE_SCHEDULE),
            ("node-os-upgrade", _NODE_OS_UPGRADE_SCHEDULE),
        ):
            aks.MaintenanceConfiguration(
                f"{name}-{role}-window",
                config_name=config_name,
                resource_group_name=where.resource_group_name,
                resource_name_=managed.name,
                maintenance_window=_maintenance_window(cfg),
                opts=removable(managed),
            )

        cluster_admin = roles.deployer_access(
            f"{name}-deployer-cluster-admin",
            managed,
            "Azure Kubernetes Service RBAC Cluster Admin",
            args.deployer,
            where.subscription_id,
        )

        credentials = aks.list_managed_cluster_user_credentials_output(
            resource_group_name=where.resource_group_name,
            resource_name=managed.name,
            format="exec",
        )
        mode = cfg.kubelogin_mode
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda configs: kubeconfig_tools.with_login_mode(kubeconfig_tools.decode(configs[0].value), mode)
            )
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_admin]),
        )

        self.cluster_name = managed.name
        self.cluster_id = managed.id
        self.oidc_issuer_url = managed.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or "")
        self.kubelet_object_id = managed.identity_profile.apply(_kubelet_object_id)
        self.control_plane_principal_id = identity.principal_id
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubelet_object_id": self.kubelet_object_id,
                "control_plane_principal_id": self.control_plane_principal_id,
                "kubeconfig": self.kubeconfig,
            }
        )
