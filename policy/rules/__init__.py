"""Every rule of the pack, in the order the pack reports them."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import azure, kubernetes, monitoring, private, stack

PACK_NAME = "broxiva-platform-policies"
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
RULE_MODULES = (azure, private, kubernetes, stack, monitoring)

POLICIES: list[Policy] = [
    *azure.POLICIES,
    *private.POLICIES,
    *kubernetes.POLICIES,
    *stack.POLICIES,
    *monitoring.POLICIES,
]
