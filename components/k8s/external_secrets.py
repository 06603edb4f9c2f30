"""External Secrets Operator syncing the environment's Key Vault into Secret broxiva-secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.secrets import secrets_version_key
from ..names import APP_SECRET_NAME, EXTERNAL_SECRETS_NAMESPACE, KEYVAULT_READER_SERVICE_ACCOUNT, PULL_SECRET_NAME
from ..options import children_depends_on
from . import charts

API_VERSION = "external-secrets.io/v1"
STORE_NAME = "azure-keyvault-broxiva"
EXTERNAL_SECRET_NAME = "broxiva-all-secrets"


def secret_data(app_env: Mapping[str, str]) -> list[dict[str, object]]:
    """ExternalSecret data entries: one per Key Vault secret, keyed by the variable the apps read."""
    return [{"secretKey": env, "remoteRef": {"key": vault_name}} for vault_name, env in sorted(app_env.items())]


def version_template(key: str, version: str) -> dict[str, object]:
    """The Secret holds the fetched values plus ``key: version`` (``mergePolicy: Merge`` adds the templated keys to
    the fetched ones: external-secrets apis/externalsecrets/v1/externalsecret_types.go ExternalSecretTemplate).
    A new version changes the ExternalSecret's spec, and the operator re-syncs at once when the spec's generation
    differs from the one it last synced, whatever the refresh interval."""
    return {"engineVersion": "v2", "mergePolicy": "Merge", "data": {key: version}}


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def dockerconfigjson_template(registry_host: str, username: str) -> str:
    """A dockerconfigjson built by ESO's template engine from the Key Vault token (never by this program)."""
    auth = '{{ printf "%s:%s" "' + username + '" .token | b64enc }}'
    doc = {"auths": {registry_host: {"username": username, "password": "{{ .token }}", "auth": auth}}}
    return json.dumps(doc, separators=(",", ":"))


@dataclass(frozen=True)
class PullSecret:
    key_vault_secret: str
    """Key Vault secret holding the registry token."""
    registry_host: str
    """Registry host (ghcr.io)."""
    username: str
    """User name paired with the token."""


@dataclass(frozen=True)
class ExternalSecretsArgs:
    app_namespace: pulumi.Input[str]
    """Namespace of the apps (SecretStore, ExternalSecrets, reader service account)."""
    identity_client_id: pulumi.Input[str]
    """Client ID of the Key Vault reader identity (federated to the reader service account)."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of that identity."""
    vault_uri: pulumi.Input[str]
    """https://<vault>.vault.azure.net/"""
    app_env: Mapping[str, str]
    """Key Vault secret name -> environment variable, exactly the secrets the vault holds for the apps."""
    refresh_interval: str
    """How often the operator re-reads Key Vault."""
    replicas: int
    """Operator replicas (leader election when more than one)."""
    secrets_version: str
    """Version of the vault's values (``config.secrets.secrets_version``): a new one re-syncs at once."""
    pull_secret: PullSecret | None = None
    """Sync an image pull secret from Key Vault (ghcr.io token)."""


class ExternalSecrets(pulumi.ComponentResource):
    """The operator (Helm), the reader service account, the SecretStore and the ExternalSecrets."""

    secret_name: pulumi.Output[str]
    store_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    pull_secret_name: pulumi.Output[str] | None
    version_key: pulumi.Output[str]
    """The key of Secret broxiva-secrets that exists once it holds ``secrets_version`` (pods read it)."""
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: ExternalSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:k8s:ExternalSecrets", name, None, opts)
        ha = args.replicas > 1
        self.release = charts.add_on(
            name,
            "operator",
            charts.EXTERNAL_SECRETS,
            EXTERNAL_SECRETS_NAMESPACE,
            {
                "installCRDs": True,
                "replicaCount": args.replicas,
                "leaderElect": ha,
                "podDisruptionBudget": {"enabled": ha, "minAvailable": 1},
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                "webhook": {"replicaCount": args.replicas},
                "certController": {"replicaCount": 1},
                # The controller's metrics Service (port 8080, "metrics"): the scrape of the sync-failure alert.
                "metrics": {"service": {"enabled": True}},
            },
            self,
        )
        crd_ready = pulumi.ResourceOptions(parent=self, depends_on=[self.release])

        account = k8s.core.v1.ServiceAccount(
            f"{name}-reader",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=KEYVAULT_READER_SERVICE_ACCOUNT,
                namespace=args.app_namespace,
                annotations={
                    "azure.workload.identity/client-id": args.identity_client_id,
                    "azure.workload.identity/tenant-id": args.tenant_id,
                },
            ),
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        store = charts.custom_resource(
            f"{name}-store",
            API_VERSION,
            "SecretStore",
            STORE_NAME,
            args.app_namespace,
            spec={
                "provider": {
                    "azurekv": {
                        "authType": "WorkloadIdentity",
                        "environmentType": "PublicCloud",
                        "vaultUrl": args.vault_uri,
                        "serviceAccountRef": {"name": account.metadata.name},
                    }
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, account]),
        )
        store_ref = {"kind": "SecretStore", "name": charts.name_of(store)}
        version_key = secrets_version_key(args.secrets_version)
        all_secrets = charts.custom_resource(
            f"{name}-all",
            API_VERSION,
            "ExternalSecret",
            EXTERNAL_SECRET_NAME,
            args.app_namespace,
            spec={
                "refreshInterval": args.refresh_interval,
                "secretStoreRef": store_ref,
                "target": {
                    "name": APP_SECRET_NAME,
                    "creationPolicy": "Owner",
                    "deletionPolicy": "Retain",
                    "template": version_template(version_key, args.secrets_version),
                },
                "data": secret_data(args.app_env),
            },
            # After the vault's values are written (the component's depends_on): the sync a rotation forces
            # reads the new ones.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, *_as_list(children_depends_on(opts))]),
        )
        self.pull_secret_name = None
        if args.pull_secret:
            pull = args.pull_secret
            pull_secret = charts.custom_resource(
                f"{name}-registry-pull",
                API_VERSION,
                "ExternalSecret",
                PULL_SECRET_NAME,
                args.app_namespace,
                spec={
                    "refreshInterval": args.refresh_interval,
                    "secretStoreRef": store_ref,
                    "target": {
                        "name": PULL_SECRET_NAME,
                        "creationPolicy": "Owner",
                        "template": {
                            "type": "kubernetes.io/dockerconfigjson",
                            "engineVersion": "v2",
                            "data": {".dockerconfigjson": dockerconfigjson_template(pull.registry_host, pull.username)},
                        },
                    },
                    "data": [{"secretKey": "token", "remoteRef": {"key": pull.key_vault_secret}}],
                },
                opts=crd_ready,
            )
            # Pods that name the Secret wait for the ExternalSecret that fills it.
            self.pull_secret_name = pull_secret.metadata.apply(lambda _: PULL_SECRET_NAME)
        self.secret_name = all_secrets.metadata.apply(lambda _: APP_SECRET_NAME)
        self.version_key = all_secrets.metadata.apply(lambda _: version_key)
        self.store_name = charts.name_of(store)
        self.service_account_name = account.metadata.name
        self.register_outputs(
            {
                "secret_name": self.secret_name,
                "store_name": self.store_name,
                "service_account_name": self.service_account_name,
                "version_key": self.version_key,
                **({"pull_secret_name": self.pull_secret_name} if self.pull_secret_name else {}),
            }
        )
