"""The small shared pieces components are built from: placement, resource options, principals, add-on charts."""

from __future__ import annotations

import pulumi
import pytest

from components.azure.context import Placement, Principal, deployer_principal_type, resource_group_of
from components.k8s import charts
from components.options import removable

PLACEMENT = Placement(
    resource_group_name="broxiva-prod-rg",
    location="eastus2",
    tags={"environment": "prod"},
    subscription_id="sub",
    protect=True,
)


def test_located_is_group_region_and_tags():
    assert PLACEMENT.located() == {
        "resource_group_name": "broxiva-prod-rg",
        "location": "eastus2",
        "tags": {"environment": "prod"},
    }


def test_in_group_moves_only_the_group():
    moved = PLACEMENT.in_group("other-rg")
    assert moved.located()["resource_group_name"] == "other-rg"
    assert (moved.location, moved.tags, moved.subscription_id, moved.protect) == (
        PLACEMENT.location,
        PLACEMENT.tags,
        PLACEMENT.subscription_id,
        PLACEMENT.protect,
    )
    assert PLACEMENT.resource_group_name == "broxiva-prod-rg"


@pytest.mark.parametrize("protect", [True, False])
def test_kept_follows_the_placement(protect):
    parent = object()
    opts = Placement("rg", "eastus2", {}, "sub", protect).kept(parent, ignore_changes=["count"])  # type: ignore[arg-type]
    assert (opts.parent, opts.protect, opts.ignore_changes) == (parent, protect, ["count"])


def test_removable_turns_inherited_protection_off():
    parent = object()
    opts = removable(parent, ignore_changes=["count"])  # type: ignore[arg-type]
    # None would inherit the parent's protect; False is what keeps the child deletable.
    assert opts.protect is False
    assert (opts.parent, opts.ignore_changes) == (parent, ["count"])


def test_a_managed_identity_is_a_service_principal():
    assert Principal.of_identity("abc") == Principal(object_id="abc", principal_type="ServicePrincipal")


def test_add_on_release_names_are_distinct_and_stable():
    # Renaming a Helm release installs a second copy next to the first: these are what the clusters run.
    assert {c.chart: c.release for c in charts.ALL} == {
        "external-secrets": "external-secrets",
        "cert-manager": "cert-manager",
        "oci://docker.io/envoyproxy/gateway-helm": "envoy-gateway",
        "oci://docker.io/envoyproxy/gateway-crds-helm": "envoy-gateway-crds",
    }


def test_helm_releases_carry_the_chart_release_name(plan):
    rendered = plan("prod")
    releases = rendered.by_type("kubernetes:helm.sh/v3:Release")
    assert sorted(r["inputs"]["name"] for r in releases) == sorted(c.release for c in charts.ALL)
    for release in releases:
        # Each add-on's release is a child of its own namespace, so it is deleted before the namespace.
        namespace = rendered.urn_of(release["parent"])
        assert namespace["type"] == "kubernetes:core/v1:Namespace", release["name"]
        assert release["inputs"]["namespace"] == namespace["inputs"]["metadata"]["name"]


def test_output_type_is_pulumi():
    # The helpers hand back engine types, not look-alikes.
    assert isinstance(removable(None), pulumi.ResourceOptions)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("resource_id", "group"),
    [
        (
            "/subscriptions/s/resourceGroups/broxiva-dev-rg/providers/Microsoft.Network/publicIPAddresses/ip",
            "/subscriptions/s/resourceGroups/broxiva-dev-rg",
        ),
        ("/subscriptions/s/resourcegroups/rg", "/subscriptions/s/resourcegroups/rg"),
    ],
)
def test_resource_group_of(resource_id, group):
    assert resource_group_of(resource_id) == group


@pytest.mark.parametrize("resource_id", ["", "/subscriptions/s", "/providers/Microsoft.Authorization/x/y/z"])
def test_resource_group_of_refuses_ids_outside_a_group(resource_id):
    with pytest.raises(ValueError, match="not a resource ID inside a resource group"):
        resource_group_of(resource_id)


@pytest.mark.parametrize(
    ("configured", "object_id", "ci", "expected"),
    [
        (None, "person", ["ci-dev", "ci-prod"], "User"),
        (None, "ci-prod", ["ci-dev", "ci-prod"], "ServicePrincipal"),
        (None, "ci-prod", [], "User"),
        ("Group", "ci-prod", ["ci-prod"], "Group"),
        ("ServicePrincipal", "someone", [], "ServicePrincipal"),
    ],
)
def test_deployer_principal_type(configured, object_id, ci, expected):
    assert deployer_principal_type(configured, object_id, ci) == expected
