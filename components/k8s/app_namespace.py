"""The app namespace baseline: Pod Security, RBAC, network policies, quota, app settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config import AppConfig, NamespaceRbac, StackConfig
from ..config import validation as v
from ..names import APP_LABEL, CONFIG_MAP_NAME, GATE_FOR_LABEL, GATEWAY_NAMESPACE, PART_OF, PART_OF_LABEL

ACME_SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
ACME_SOLVER_PORT = 8089
QUOTA_HEADROOM = Decimal("1.25")


METRICS_SCRAPER_LABELS = {"rsName": "ama-metrics"}
"""The pods of the AKS metrics add-on's collector that scrape ServiceMonitor targets."""


def app_settings(cfg: StackConfig, redis_host: pulumi.Input[str], redis_port: pulumi.Input[int]) -> dict[str, Any]:
    """ConfigMap broxiva-config: non-secret settings only (secrets come from Secret broxiva-secrets). The cache's
    host and port are its real outputs."""
    s = cfg.app_settings
    api_url = f"https://{cfg.domains.api}"
    origins = [f"https://{cfg.domains.web}", f"https://{cfg.domains.admin}"]
    if cfg.domains.www:
        origins.append(f"https://{cfg.domains.www}")
    return {
        "NODE_ENV": s.node_env,
        "APP_ENV": cfg.environment,
        "LOG_LEVEL": s.log_level,
        "ENABLE_DEBUG": "true" if s.enable_debug else "false",
        "API_DOMAIN": cfg.domains.api,
        "WEB_DOMAIN": cfg.domains.web,
        "REDIS_HOST": redis_host,
        "REDIS_PORT": pulumi.Output.from_input(redis_port).apply(str),
        "JWT_EXPIRATION": s.jwt_expiration,
        "CORS_ORIGIN": ",".join(origins),
        "NEXT_PUBLIC_API_URL": api_url,
        "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": s.stripe_publishable_key,
        "NEXT_PUBLIC_GOOGLE_ANALYTICS_ID": s.google_analytics_id,
        "PAYMENT_MODE": cfg.features.payment_mode,
        "EMAIL_PROVIDER": cfg.features.email_provider,
        "RATE_LIMITING": cfg.features.rate_limiting,
        # OpenTelemetry SDK settings (the spec's environment variables): traces sampled by ratio, parent first;
        # W3C propagation; metrics served to Prometheus on each pod's metrics port (set per container). The
        # trace exporter's address is the Application Insights connection string in the Secret.
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": f"{cfg.observability.trace_sample_ratio:g}",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_EXPORTER_PROMETHEUS_HOST": "0.0.0.0",
        # The stable HTTP and database conventions (http.server.request.duration, db.client.operation.duration)
        # the platform's rules and dashboards read.
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http,database",
    }


def _fmt_cpu(cores: Decimal) -> str:
    return f"{int((cores * 1000).to_integral_value(rounding='ROUND_CEILING'))}m"


def _fmt_memory(size: Decimal) -> str:
    return f"{int((size / 2**20).to_integral_value(rounding='ROUND_CEILING'))}Mi"


def quota(apps: Mapping[str, AppConfig]) -> dict[str, str]:
    """Namespace quota: both colors of every app at their maximum scale, plus headroom for rollouts."""
    cpu_req = cpu_lim = mem_req = mem_lim = Decimal(0)
    pods = 0
    for app in apps.values():
        peak = app.autoscaling.max_replicas if app.autoscaling else app.replicas
        copies = 2 * peak  # blue and green may both run at full size
        pods += copies
        cpu_req += v.parse_cpu(app.resources.requests.cpu) * copies
        cpu_lim += v.parse_cpu(app.resources.limits.cpu) * copies
        mem_req += Decimal(v.parse_memory(app.resources.requests.memory)) * copies
        mem_lim += Decimal(v.parse_memory(app.resources.limits.memory)) * copies
    return {
        "requests.cpu": _fmt_cpu(cpu_req * QUOTA_HEADROOM),
        "limits.cpu": _fmt_cpu(cpu_lim * QUOTA_HEADROOM),
        "requests.memory": _fmt_memory(mem_req * QUOTA_HEADROOM),
        "limits.memory": _fmt_memory(mem_lim * QUOTA_HEADROOM),
        # Headroom for surge pods, ACME solvers and jobs.
        "pods": str(int(pods * QUOTA_HEADROOM) + 10),
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


def limit_range(apps: Mapping[str, AppConfig]) -> dict[str, dict[str, str]]:
    """Defaults for containers that declare nothing (ACME solvers) and a ceiling at the largest app limit."""
    max_cpu = max(v.parse_cpu(a.resources.limits.cpu) for a in apps.values())
    max_mem = max(v.parse_memory(a.resources.limits.memory) for a in apps.values())
    return {
        "default": {"cpu": "200m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "50m", "memory": "64Mi"},
        "max": {"cpu": _fmt_cpu(max_cpu), "memory": _fmt_memory(Decimal(max_mem))},
    }


@dataclass(frozen=True)
class DataService:
    """Where a data service answers: its subnet and port."""

    name: str
    """Label of the rule (postgres, redis)."""
    cidr: str
    """The subnet its private addresses come from."""
    port: int
    """Its TCP port."""


@dataclass(frozen=True)
class AppNamespaceArgs:
    namespace: str
    """Name of the app namespace."""
    environment: str
    """Environment name (namespace label)."""
    apps: Mapping[str, AppConfig]
    """The apps: quota and limits cover them; routed ones get an ingress policy from the Gateway."""
    rbac: NamespaceRbac
    """Entra ID groups bound to the deployer Role and to view."""
    settings: Mapping[str, pulumi.Input[str]]
    """Non-secret app settings (``app_settings``), the data of ConfigMap broxiva-config."""
    data_services: tuple[DataService, ...]
    """The data subnets and ports the apps may reach (PostgreSQL, Redis); nothing else on the VNet."""


class AppNamespace(pulumi.ComponentResource):
    """Namespace broxiva-<environment> with restricted Pod Security, default-deny networking,
    namespace RBAC for Entra ID groups, quota, limits and the broxiva-config ConfigMap."""

    namespace: pulumi.Output[str]
    config_map_name: pulumi.Output[str]

    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:k8s:AppNamespace", name, None, opts)
        ns_name = args.namespace
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ns_name,
                labels={
                    "broxiva.com/environment": args.environment,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=ns)

        def meta(obj_name: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=obj_name, namespace=ns.metadata.name)

        deployer = k8s.rbac.v1.Role(
            f"{name}-deployer-role",
            metadata=meta("broxiva-deployer"),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["apps"],
                    resources=["deployments", "deployments/scale", "replicasets"],
                    verbs=["get", "list", "watch", "patch", "update"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["pods", "pods/log", "services", "configmaps", "events"],
                    verbs=["get", "list", "watch"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["delete"]),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["autoscaling"], resources=["horizontalpodautoscalers"], verbs=["get", "list", "watch"]
                ),
            ],
            opts=child,
        )
        for role_name, groups, role_ref in (
            ("deployers", args.rbac.deployer_group_object_ids, ("Role", deployer.metadata.name)),
            ("readers", args.rbac.reader_group_object_ids, ("ClusterRole", "view")),
        ):
            if not groups:
                continue
            k8s.rbac.v1.RoleBinding(
                f"{name}-{role_name}",
                metadata=meta(f"broxiva-{role_name}"),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind=role_ref[0], name=role_ref[1]
                ),
                subjects=[
                    k8s.rbac.v1.SubjectArgs(kind="Group", name=g, api_group="rbac.authorization.k8s.io") for g in groups
                ],
                opts=child,
            )

        self._network_policies(name, args, meta, child)

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("broxiva-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota(args.apps)),
            opts=child,
        )
        limits = limit_range(args.apps)
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("broxiva-limits"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default=limits["default"],
                        default_request=limits["defaultRequest"],
                        max=limits["max"],
                    )
                ]
            ),
            opts=child,
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=meta(CONFIG_MAP_NAME),
            data=dict(args.settings),
            opts=child,
        )
        self.namespace = ns.metadata.name
        self.config_map_name = config_map.metadata.name
        self.register_outputs({"namespace": self.namespace, "config_map_name": self.config_map_name})

    @staticmethod
    def _network_policies(
        name: str, args: AppNamespaceArgs, meta: Callable[[str], Any], child: pulumi.ResourceOptions
    ) -> None:
        np = k8s.networking.v1
        gateway_ns = np.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": GATEWAY_NAMESPACE}
            )
        )
        anywhere = np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr="0.0.0.0/0"))
        # Egress rules match the destination address, which the node's SNAT (Azure CNI overlay) leaves alone:
        # an ipBlock of a data subnet admits that subnet and nothing else of the VNet.
        policies: list[tuple[str, dict[str, Any]]] = [
            # Nothing in, nothing out, unless a policy below allows it.
            ("default-deny", {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}),
            (
                "allow-dns",
                {
                    "pod_selector": {},
                    "policy_types": ["Egress"],
                    "egress": [
                        np.NetworkPolicyEgressRuleArgs(
                            to=[
                                np.NetworkPolicyPeerArgs(
                                    namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                        match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                    ),
                                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                                )
                            ],
                            ports=[
                                np.NetworkPolicyPortArgs(protocol="UDP", port=53),
                                np.NetworkPolicyPortArgs(protocol="TCP", port=53),
                            ],
                        )
                    ],
                },
            ),
            (
                "allow-egress-data-services",
                {
                    "pod_selector": {"matchLabels": {PART_OF_LABEL: PART_OF}},
                    "policy_types": ["Egress"],
                    "egress": [
                        np.NetworkPolicyEgressRuleArgs(
                            to=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr=service.cidr))],
                            ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=service.port)],
                        )
                        for service in args.data_services
                    ],
                },
            ),
            (
                "allow-egress-https",
                {
                    "pod_selector": {"matchLabels": {PART_OF_LABEL: PART_OF}},
                    "policy_types": ["Egress"],
                    "egress": [
                        np.NetworkPolicyEgressRuleArgs(
                            to=[anywhere], ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=443)]
                        )
                    ],
                },
            ),
            (
                # cert-manager runs HTTP-01 solver pods in the Certificate's namespace; the gateway must reach them.
                "allow-gateway-to-acme-solver",
                {
                    "pod_selector": {"matchLabels": {ACME_SOLVER_LABEL: "true"}},
                    "policy_types": ["Ingress"],
                    "ingress": [
                        np.NetworkPolicyIngressRuleArgs(
                            from_=[gateway_ns], ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=ACME_SOLVER_PORT)]
                        )
                    ],
                },
            ),
        ]
        routed = {n: a for n, a in args.apps.items() if a.kind == "service"}
        for app_name, app in sorted(routed.items()):
            # The app's promotion gate checks it through its Service, from inside the namespace.
            gate = np.NetworkPolicyPeerArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={GATE_FOR_LABEL: app_name})
            )
            policies.append(
                (
                    f"allow-gateway-to-{app_name}",
                    {
                        "pod_selector": {"matchLabels": {APP_LABEL: app_name}},
                        "policy_types": ["Ingress"],
                        "ingress": [
                            np.NetworkPolicyIngressRuleArgs(
                                from_=[gateway_ns, gate],
                                ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=app.port)],
                            )
                        ],
                    },
                )
            )
        # The AKS metrics add-on's collector (kube-system, label rsName=ama-metrics) scrapes each app's metrics
        # port, and nothing else.
        scraper = np.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": "kube-system"}
            ),
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(METRICS_SCRAPER_LABELS)),
        )
        for app_name, app in sorted(routed.items()):
            policies.append(
                (
                    f"allow-metrics-scrape-{app_name}",
                    {
                        "pod_selector": {"matchLabels": {APP_LABEL: app_name}},
                        "policy_types": ["Ingress"],
                        "ingress": [
                            np.NetworkPolicyIngressRuleArgs(
                                from_=[scraper], ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=app.metrics_port)]
                            )
                        ],
                    },
                )
            )
        policies.append(
            (
                "allow-gates-to-their-app",
                {
                    "pod_selector": {"matchExpressions": [{"key": GATE_FOR_LABEL, "operator": "Exists"}]},
                    "policy_types": ["Egress"],
                    "egress": [
                        np.NetworkPolicyEgressRuleArgs(
                            to=[
                                np.NetworkPolicyPeerArgs(
                                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={APP_LABEL: app_name})
                                )
                            ],
                            ports=[np.NetworkPolicyPortArgs(protocol="TCP", port=app.port)],
                        )
                        for app_name, app in sorted(routed.items())
                    ],
                },
            )
        )
        for policy_name, spec in policies:
            selector = spec.pop("pod_selector")
            np.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata=meta(policy_name),
                spec=np.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(**_selector(selector)), **spec
                ),
                opts=child,
            )


def _selector(selector: dict[str, Any]) -> dict[str, Any]:
    if "matchExpressions" in selector:
        return {
            "match_expressions": [k8s.meta.v1.LabelSelectorRequirementArgs(**e) for e in selector["matchExpressions"]]
        }
    return {"match_labels": selector["matchLabels"]} if selector else {}
