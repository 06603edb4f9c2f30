"""Pulumi mocks that record every registration and return plausible outputs.

The recording monitor sees what the engine would see (type, name, parent,
provider, protect, dependencies, inputs). The mock outputs are deterministic and
shaped like the real providers' outputs, so everything downstream of them
(role assignment scopes, DNS records, kubeconfig, workload identity wiring)
renders.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import yaml
from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks

from tools.pulumi_sdk import (
    SECRET_SIG,
    SECRET_SIG_KEY,
    UNKNOWN,
    deserialize_properties,
    ensure_event_loop,
    mock_urn,
    remember_mock_resource,
    resource_pb2,
    serialize_properties,
    sync_await,
)

from .shapes import contains_unknown, created_outputs, preview_outputs

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
KUBERNETES_PROVIDER_TYPE = "pulumi:providers:kubernetes"


class StackReferenceError(Exception):
    """A stack reference that names no project or stack of this repository."""


SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
TENANT_ID = "00000000-0000-4000-8000-000000000002"
DEPLOYER_CLIENT_ID = "00000000-0000-4000-8000-000000000003"
DEPLOYER_OBJECT_ID = "00000000-0000-4000-8000-000000000004"

_NS = uuid.UUID("6f1c2a4e-0000-4000-8000-00000000b0b0")

# ARM provider namespace and collection of the azure-native types the program uses.
_ARM: dict[str, str | None] = {
    "resources:ResourceGroup": None,
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "containerservice:MaintenanceConfiguration": "Microsoft.ContainerService/managedClusters/{cluster}/maintenanceConfigurations",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "managedidentity:FederatedIdentityCredential": "Microsoft.ManagedIdentity/userAssignedIdentities/{identity}/federatedIdentityCredentials",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "keyvault:Secret": "Microsoft.KeyVault/vaults/{vault}/secrets",
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "dns:Zone": "Microsoft.Network/dnsZones",
    "dns:RecordSet": "Microsoft.Network/dnsZones/{zone}/{recordType}",
    "authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:Subnet": "Microsoft.Network/virtualNetworks/{vnet}/subnets",
    "network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/{endpoint}/privateDnsZoneGroups",
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/{privateZone}/virtualNetworkLinks",
    "dbforpostgresql:Server": "Microsoft.DBforPostgreSQL/flexibleServers",
    "dbforpostgresql:AdministratorsMicrosoftEntra": "Microsoft.DBforPostgreSQL/flexibleServers/{server}/administrators",
    "dbforpostgresql:Configuration": "Microsoft.DBforPostgreSQL/flexibleServers/{server}/configurations",
    "dbforpostgresql:Database": "Microsoft.DBforPostgreSQL/flexibleServers/{server}/databases",
    "redisenterprise:RedisEnterprise": "Microsoft.Cache/redisEnterprise",
    "redisenterprise:Database": "Microsoft.Cache/redisEnterprise/{cache}/databases",
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "storage:BlobServiceProperties": "Microsoft.Storage/storageAccounts/{account}/blobServices",
    "storage:BlobContainer": "Microsoft.Storage/storageAccounts/{account}/blobServices/default/containers",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "monitor:AzureMonitorWorkspace": "Microsoft.Monitor/accounts",
    "monitor:DataCollectionEndpoint": "Microsoft.Insights/dataCollectionEndpoints",
    "monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "monitor:MetricAlert": "Microsoft.Insights/metricAlerts",
    "alertsmanagement:PrometheusRuleGroup": "Microsoft.AlertsManagement/prometheusRuleGroups",
    "logic:Workflow": "Microsoft.Logic/workflows",
    "dashboard:Grafana": "Microsoft.Dashboard/grafana",
    "storage:BlobContainerImmutabilityPolicy": (
        "Microsoft.Storage/storageAccounts/{account}/blobServices/default/containers/{container}/immutabilityPolicies"
    ),
}


_EXTENSIONS: dict[str, str] = {
    "monitor:DataCollectionRuleAssociation": "Microsoft.Insights/dataCollectionRuleAssociations",
    "monitor:DiagnosticSetting": "Microsoft.Insights/diagnosticSettings",
}
"""Extension resources: their ID is the extended resource's, then their own provider path."""


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:8], 16)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def mask_secrets(value: Any) -> Any:
    """Replace every secret-wrapped value with the literal ``[secret]``, every unknown with ``[unknown]``."""
    if is_secret(value):
        return SECRET_MASK
    if isinstance(value, str) and value == UNKNOWN:
        return UNKNOWN_MASK
    if isinstance(value, dict):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def secret_digests(value: Any, path: str = "") -> dict[str, str]:
    """Path -> short digest of every secret value (offline values only), so a diff can say it changed."""
    if is_secret(value):
        raw = json.dumps(unwrap_secrets(value.get("value")), sort_keys=True, default=str)
        return {path: hashlib.sha256(raw.encode()).hexdigest()[:12]}
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(secret_digests(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            out.update(secret_digests(v, f"{path}[{i}]"))
    return out


def sentinel_unknowns(value: Any) -> Any:
    """Deserialized values with each unknown (``pulumi.output.Unknown`` in a preview) as the wire's sentinel."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: sentinel_unknowns(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sentinel_unknowns(v) for v in value]
    return value


def unwrap_secrets(value: Any) -> Any:
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap_secrets(v) for v in value]
    return value


def fake_kubeconfig(cluster: str, resource_group: str) -> str:
    """A kubeconfig shaped like AKS user credentials with local accounts disabled (kubelogin exec)."""
    server = f"https://{cluster}-dns-{_digest(cluster):08x}.hcp.eastus.azmk8s.io:443"
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": "TU9DSy1DQQ=="}}],
        "contexts": [
            {"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{resource_group}_{cluster}"}}
        ],
        "current-context": cluster,
        "users": [
            {
                "name": f"clusterUser_{resource_group}_{cluster}",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--environment",
                            "AzurePublicCloud",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                            "--client-id",
                            "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                            "--tenant-id",
                            TENANT_ID,
                            "--login",
                            "devicecode",
                        ],
                        "env": None,
                        "installHint": "kubelogin is not installed",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


class PlausibleMocks(pulumi_mocks.Mocks):
    """Outputs shaped like the real providers' answers, deterministic per logical name."""

    def __init__(
        self,
        stack: str,
        *,
        preview: bool = False,
        references: Callable[[str], tuple[dict[str, Any], set[str]]] | None = None,
    ):
        self.stack = stack
        self.preview = preview
        """A create preview (dry run): RecordingMonitor answers with preview outputs instead of new_resource's."""
        self.references = references
        """Stack reference name -> (outputs, names of the secret ones); raises StackReferenceError."""
        self.errors: list[str] = []
        """Configuration errors found while answering (an unresolvable stack reference)."""
        self.first_names: dict[str, str] = {}
        """Logical name -> the name an alias says the resource was made under. The engine keeps an aliased
        resource's state, so a generated value derives from that first name, not from the new one."""

    # ------------------------------------------------------------------ invokes
    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        if token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": DEPLOYER_CLIENT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }, []
        if token == "azure-native:containerservice:listManagedClusterUserCredentials":
            cluster = str(args.args.get("resourceName"))
            group = str(args.args.get("resourceGroupName"))
            value = base64.b64encode(fake_kubeconfig(cluster, group).encode()).decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}, []
        if token == "azure-native:redisenterprise:listDatabaseKeys":
            # Azure generates the keys; offline they are stable per stack and cache.
            seed = f"{self.stack}/{args.args.get('clusterName')}/{args.args.get('databaseName')}"
            return {
                "primaryKey": base64.b64encode(hashlib.sha256(f"{seed}/primary".encode()).digest()).decode(),
                "secondaryKey": base64.b64encode(hashlib.sha256(f"{seed}/secondary".encode()).digest()).decode(),
            }, []
        if token == "azure-native:authorization:getClientToken":
            # An Entra access token for the asked audience (a JWT in Azure; opaque here).
            audience = args.args.get("endpoint") or "https://management.azure.com/"
            return {"token": "mock-token." + hashlib.sha256(f"{self.stack}/{audience}".encode()).hexdigest()[:32]}, []
        if token == "azure-native:logic:listWorkflowTriggerCallbackUrl":
            workflow, trigger = args.args.get("workflowName"), args.args.get("triggerName")
            sig = hashlib.sha256(f"{self.stack}/{workflow}/{trigger}".encode()).hexdigest()[:43]
            return {
                "value": f"https://prod-00.eastus.logic.azure.com:443/workflows/{_digest(str(workflow)):032x}/"
                f"triggers/{trigger}/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2F{trigger}%2Frun&sv=1.0"
                f"&sig={sig}",
                "method": "POST",
            }, []
        return {}, []

    # ------------------------------------------------------------------ resources
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A create (or a read), answered with the outputs the resource class declares (shapes.created_outputs)."""
        typ, name = args.typ, args.name
        inputs = dict(args.inputs)
        if typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(inputs, args.resource_id)
        if typ.startswith("azure-native:"):
            rid, computed = self._azure(typ, name, inputs)
            return rid, created_outputs(typ, inputs, computed)
        if typ.startswith("random:"):
            return f"{name}-id", created_outputs(typ, inputs, self._random(typ, name, inputs))
        if typ == "kubernetes:helm.sh/v3:Release":
            status = {"name": inputs.get("name", name), "namespace": inputs.get("namespace"), "status": "deployed"}
            ident = f"{inputs.get('namespace', 'default')}/{inputs.get('name', name)}"
            return ident, created_outputs(typ, inputs, {"status": status})
        if typ.startswith("kubernetes:"):
            meta = unwrap_secrets(inputs.get("metadata") or {})
            ns = meta.get("namespace")
            ident = f"{ns}/{meta.get('name', name)}" if ns else str(meta.get("name", name))
            # The live object: the manifest as applied (server-set fields left out).
            return ident, created_outputs(typ, inputs, {})
        return f"{name}-id", inputs

    def _stack_reference(self, inputs: dict[str, Any], resource_id: str | None) -> tuple[str, dict[str, Any]]:
        """``pulumi:pulumi:StackReference``: the referenced stack's outputs, as the engine reads them."""
        reference = str(unwrap_secrets(inputs.get("name")) or resource_id or "")
        if self.references is None:
            self.errors.append(f"stack reference {reference!r} cannot be resolved offline")
            return reference, {"name": reference, "outputs": {}, "secretOutputNames": []}
        try:
            outputs, secret_names = self.references(reference)
        except StackReferenceError as err:
            self.errors.append(str(err))
            return reference, {"name": reference, "outputs": {}, "secretOutputNames": []}
        # The engine hands secret outputs back as secrets (pulumi pkg/resource/deploy/builtins.go readStackReference).
        wrapped = {
            key: {SECRET_SIG_KEY: SECRET_SIG, "value": value} if key in secret_names else value
            for key, value in outputs.items()
        }
        return reference, {"name": reference, "outputs": wrapped, "secretOutputNames": sorted(secret_names)}

    def _azure(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = unwrap_secrets(inputs)
        short = typ.split(":", 1)[1]
        group = plain.get("resourceGroupName", "mock-rg")
        base = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}"
        resource_name = self._physical_name(short, name, plain)
        if short == "resources:ResourceGroup":
            rid = base.rsplit("/", 1)[0] + "/" + plain.get("resourceGroupName", name)
        else:
            template = _ARM.get(short) or f"Microsoft.Mock/{short.replace(':', '.')}"
            collection = template.format(
                cluster=plain.get("resourceName", "cluster"),
                identity=plain.get("resourceName", "identity"),
                vault=plain.get("vaultName", "vault"),
                zone=plain.get("zoneName", "zone"),
                recordType=plain.get("recordType", "A"),
                vnet=plain.get("virtualNetworkName", "vnet"),
                endpoint=plain.get("privateEndpointName", "endpoint"),
                privateZone=plain.get("privateZoneName", "zone"),
                server=plain.get("serverName", "server"),
                cache=plain.get("clusterName", "cache"),
                account=plain.get("accountName", "account"),
                container=plain.get("containerName", "container"),
            )
            scope = plain.get("scope")
            prefix = scope if short == "authorization:RoleAssignment" and scope else base
            rid = f"{prefix}/providers/{collection}/{resource_name}"
            if short in _EXTENSIONS:
                # Extension resources live under the resource they extend.
                rid = f"{plain.get('resourceUri')}/providers/{_EXTENSIONS[short]}/{resource_name}"
        arm_type = "Microsoft.Resources/resourceGroups"
        if short != "resources:ResourceGroup":
            arm_type = re.sub(
                r"/\{[^}]+\}",
                "",
                _ARM.get(short) or _EXTENSIONS.get(short) or f"Microsoft.Mock/{short.replace(':', '.')}",
            )
        state: dict[str, Any] = {"id": rid, "name": resource_name, "type": arm_type, "azureApiVersion": "mock"}
        identity = plain.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Inputs list identity IDs; the provider answers with a map of ID -> client/principal IDs.
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    i: {"clientId": stable_uuid(i, "client"), "principalId": stable_uuid(i, "principal")}
                    for i in identity["userAssignedIdentities"]
                },
            }
        if short == "containerservice:ManagedCluster":
            state["identityProfile"] = {
                "kubeletidentity": {
                    "clientId": stable_uuid(self.stack, name, "kubelet-client"),
                    "objectId": stable_uuid(self.stack, name, "kubelet-object"),
                    "resourceId": f"{base}_nodes/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resource_name}-agentpool",
                }
            }
            state["oidcIssuerProfile"] = {
                "enabled": True,
                "issuerURL": f"https://eastus.oic.prod-aks.azure.com/{TENANT_ID}/{stable_uuid(self.stack, name, 'oidc')}/",
            }
            state["fqdn"] = f"{resource_name}-dns-{_digest(resource_name):08x}.hcp.eastus.azmk8s.io"
            state["nodeResourceGroup"] = f"MC_{group}_{resource_name}_eastus"
        elif short == "managedidentity:UserAssignedIdentity":
            state["clientId"] = stable_uuid(self.stack, name, "client")
            state["principalId"] = stable_uuid(self.stack, name, "principal")
            state["tenantId"] = TENANT_ID
        elif short == "network:PublicIPAddress":
            state["ipAddress"] = f"203.0.113.{10 + _digest(self.stack, name) % 240}"
        elif short == "keyvault:Vault":
            state["properties"] = {
                **plain.get("properties", {}),
                "vaultUri": f"https://{resource_name}.vault.azure.net/",
            }
        elif short == "keyvault:Secret":
            state["properties"] = {
                "secretUri": f"https://{plain.get('vaultName')}.vault.azure.net/secrets/{resource_name}",
            }
        elif short == "containerregistry:Registry":
            state["loginServer"] = f"{resource_name}.azurecr.io"
        elif short == "dns:Zone":
            state["nameServers"] = [f"ns1-0{i}.azure-dns.com." for i in range(1, 5)]
        elif short == "dns:RecordSet":
            state["fqdn"] = f"{plain.get('relativeRecordSetName')}.{plain.get('zoneName')}."
        elif short == "operationalinsights:Workspace":
            state["customerId"] = stable_uuid(self.stack, name, "workspace")
        elif short == "dbforpostgresql:Server":
            state["fullyQualifiedDomainName"] = f"{resource_name}.postgres.database.azure.com"
        elif short == "applicationinsights:Component":
            key = stable_uuid(self.stack, name, "instrumentation-key")
            state["instrumentationKey"] = key
            state["appId"] = stable_uuid(self.stack, name, "app")
            state["connectionString"] = (
                f"InstrumentationKey={key};IngestionEndpoint=https://eastus-8.in.applicationinsights.azure.com/;"
                f"LiveEndpoint=https://eastus.livediagnostics.monitor.azure.com/;ApplicationId={state['appId']}"
            )
        elif short == "monitor:AzureMonitorWorkspace":
            state["metrics"] = {
                "internalId": f"mac_{stable_uuid(self.stack, name, 'account')}",
                "prometheusQueryEndpoint": f"https://{resource_name}-{_digest(resource_name) % 10**4:04d}.eastus.prometheus.monitor.azure.com",
            }
        elif short == "monitor:DataCollectionRule":
            state["immutableId"] = f"dcr-{_digest(self.stack, name):032x}"[:36]
        elif short == "dashboard:Grafana":
            state["properties"] = {
                **plain.get("properties", {}),
                "endpoint": f"https://{resource_name}-{_digest(resource_name) % 16**8:08x}.eus.grafana.azure.com",
            }
            if (plain.get("identity") or {}).get("type") == "SystemAssigned":
                state["identity"] = {
                    "type": "SystemAssigned",
                    "principalId": stable_uuid(self.stack, name, "principal"),
                    "tenantId": TENANT_ID,
                }
        elif short == "redisenterprise:RedisEnterprise":
            state["hostName"] = f"{resource_name}.{plain.get('location', 'eastus')}.redis.azure.net"
        return rid, state

    @staticmethod
    def _physical_name(short: str, name: str, plain: dict[str, Any]) -> str:
        keys = {
            "resources:ResourceGroup": "resourceGroupName",
            "operationalinsights:Workspace": "workspaceName",
            "containerservice:ManagedCluster": "resourceName",
            "containerservice:MaintenanceConfiguration": "configName",
            "managedidentity:UserAssignedIdentity": "resourceName",
            "managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
            "containerregistry:Registry": "registryName",
            "keyvault:Vault": "vaultName",
            "keyvault:Secret": "secretName",
            "network:PublicIPAddress": "publicIpAddressName",
            "dns:Zone": "zoneName",
            "dns:RecordSet": "relativeRecordSetName",
            "authorization:RoleAssignment": "roleAssignmentName",
            "network:VirtualNetwork": "virtualNetworkName",
            "network:Subnet": "subnetName",
            "network:NetworkSecurityGroup": "networkSecurityGroupName",
            "network:PrivateEndpoint": "privateEndpointName",
            "network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
            "privatedns:PrivateZone": "privateZoneName",
            "privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
            "dbforpostgresql:Server": "serverName",
            "dbforpostgresql:AdministratorsMicrosoftEntra": "objectId",
            "dbforpostgresql:Configuration": "configurationName",
            "dbforpostgresql:Database": "databaseName",
            "redisenterprise:RedisEnterprise": "clusterName",
            "redisenterprise:Database": "databaseName",
            "storage:StorageAccount": "accountName",
            "storage:BlobServiceProperties": "blobServicesName",
            "storage:BlobContainer": "containerName",
            "storage:BlobContainerImmutabilityPolicy": "immutabilityPolicyName",
            "applicationinsights:Component": "resourceName",
            "monitor:AzureMonitorWorkspace": "azureMonitorWorkspaceName",
            "monitor:DataCollectionEndpoint": "dataCollectionEndpointName",
            "monitor:DataCollectionRule": "dataCollectionRuleName",
            "monitor:DataCollectionRuleAssociation": "associationName",
            "monitor:DiagnosticSetting": "name",
            "monitor:ActionGroup": "actionGroupName",
            "monitor:MetricAlert": "ruleName",
            "alertsmanagement:PrometheusRuleGroup": "ruleGroupName",
            "logic:Workflow": "workflowName",
            "dashboard:Grafana": "workspaceName",
        }
        key = keys.get(short)
        value = plain.get(key) if key else None
        return str(value) if value else f"{name}{_digest(name) % 10**7:07d}"

    def _random(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if typ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
            length = int(unwrap_secrets(inputs).get("length", 16))
            first = self.first_names.get(name, name)
            seed = hashlib.sha256(f"{self.stack}/{first}/{unwrap_secrets(inputs).get('keepers')}".encode()).hexdigest()
            value = ("mockpw" + seed)[:length].ljust(length, "x")
            state["result"] = value
        elif typ == "random:index/randomUuid:RandomUuid":
            state["result"] = stable_uuid(self.stack, name, str(unwrap_secrets(inputs).get("keepers")))
        elif typ == "random:index/randomId:RandomId":
            state["hex"] = hashlib.sha256(name.encode()).hexdigest()[:16]
        return state


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that records each registration the way the engine receives it."""

    mocks: PlausibleMocks

    def __init__(self, mocks: PlausibleMocks):
        super().__init__(mocks)
        self.registrations: list[dict[str, Any]] = []
        self.by_urn: dict[str, dict[str, Any]] = {}
        self.invokes: list[dict[str, Any]] = []
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        urn = mock_urn(self, request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        ensure_event_loop()
        inputs = sentinel_unknowns(deserialize_properties(request.object, keep_unknowns=True))
        entry: dict[str, Any] = {
            "urn": urn,
            "type": request.type,
            "name": request.name,
            "custom": bool(request.custom),
            "parent": request.parent or None,
            "provider": request.provider or None,
            "protect": bool(request.protect) if request.HasField("protect") else False,
            "dependencies": sorted(set(request.dependencies)),
            "ignoreChanges": list(request.ignoreChanges),
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
            "additionalSecretOutputs": list(request.additionalSecretOutputs),
            "aliases": [MessageToDict(a) for a in request.aliases],
            "inputs": inputs,
        }
        timeouts = MessageToDict(request.customTimeouts) if request.HasField("customTimeouts") else {}
        if timeouts:
            entry["customTimeouts"] = timeouts
        renamed = [a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name]
        if renamed:
            self.mocks.first_names[request.name] = renamed[0]
        if request.importId:
            # import_: the first update imports the live resource instead of creating it.
            entry["importId"] = request.importId
        self.registrations.append(entry)
        self.by_urn[urn] = entry
        if self.mocks.preview and request.custom and not request.type.startswith("pulumi:providers:"):
            # A create preview: no ID yet (the SDK reads an empty ID as unknown), outputs as the provider previews.
            id_, state = "", self._preview(request.type, request.provider, inputs)
        else:
            resource_args = pulumi_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
            id_, state = self.mocks.new_resource(resource_args)
        # The engine marks additionalSecretOutputs secret; the stock mock monitor does not.
        for key in request.additionalSecretOutputs:
            if key in state and not is_secret(state[key]) and state[key] != UNKNOWN:
                state[key] = {SECRET_SIG_KEY: SECRET_SIG, "value": state[key]}
        entry["outputs"] = state if request.custom else {}
        obj_proto = sync_await(serialize_properties(state, {}))
        remember_mock_resource(self, urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def _preview(self, typ: str, provider: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if typ.startswith("kubernetes:"):
            config = self.by_urn.get(provider.rsplit("::", 1)[0], {}) if provider else {}
            if contains_unknown(config.get("inputs", {}).get("kubeconfig")):
                # pulumi-kubernetes provider/pkg/provider/provider.go Create: with an unknown provider
                # configuration (`!pcfg.known`) a preview answers every object with empty outputs.
                return {}
            return created_outputs(typ, inputs, {})
        return preview_outputs(typ, inputs)

    def Invoke(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.ResourceInvokeRequest
    ) -> resource_pb2.ResourceInvokeResponse:
        ensure_event_loop()
        args = sentinel_unknowns(deserialize_properties(request.args, keep_unknowns=True))
        self.invokes.append({"token": request.tok, "args": args})
        return super().Invoke(request)

    def RegisterResourceOutputs(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.RegisterResourceOutputsRequest
    ) -> empty_pb2.Empty:
        # The stack registers its exports once, after the program has run: they are the stack outputs as
        # the engine receives them, secrets still wrapped. Read as plain JSON, nested nulls stay (the SDK's
        # deserializer would drop them).
        if request.urn and request.urn == self.stack_urn:
            self.stack_outputs = MessageToDict(request.outputs)
        elif request.urn in self.by_urn:
            # A component's outputs are what it registers (the engine's RegisterResourceOutputs step).
            self.by_urn[request.urn]["outputs"] = MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)
