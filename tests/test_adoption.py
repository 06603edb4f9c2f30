"""Adoption: existing Azure resources named in adopt.* are imported by the first update, nothing else changes."""

from __future__ import annotations


def test_adopted_resources_are_imported_not_created(plan):
    sub = "00000000-0000-4000-8000-00000000aaaa"
    group = f"/subscriptions/{sub}/resourceGroups/broxiva-prod-rg"
    adopt = {
        "resourceGroup": ("azure-native:resources:ResourceGroup", group),
        "keyVault": ("azure-native:keyvault:Vault", f"{group}/providers/Microsoft.KeyVault/vaults/broxiva-kv"),
        "registry": (
            "azure-native:containerregistry:Registry",
            f"{group}/providers/Microsoft.ContainerRegistry/registries/broxivaprodacr",
        ),
        "cluster": (
            "azure-native:containerservice:ManagedCluster",
            f"{group}/providers/Microsoft.ContainerService/managedClusters/broxiva-prod-aks",
        ),
    }
    result = plan("prod", {f"adopt.{key}": resource_id for key, (_, resource_id) in adopt.items()})
    imported = {r["type"]: r["importId"] for r in result.resources if r.get("importId")}
    expected = dict(adopt.values())
    # The prod ResourceGroup only: the zone's group belongs to the bootstrap.
    assert imported == expected
    # Nothing else changes: the same resources, names and inputs as without adopt.
    plain = plan("prod")
    assert [(r["type"], r["name"], r["inputs"]) for r in result.resources] == [
        (r["type"], r["name"], r["inputs"]) for r in plain.resources
    ]


def test_nothing_is_imported_without_adopt(plan, stack):
    assert not [r["name"] for r in plan(stack).resources if r.get("importId")]
