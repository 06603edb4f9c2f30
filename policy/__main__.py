"""The broxiva-platform policy pack: ``pulumi preview --policy-pack policy``.

The Pulumi CLI runs this file with the pack directory on ``sys.path``. Building the PolicyPack starts the
analyzer's gRPC server and blocks, so nothing imports this module; the rules live in ``rules/``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import POLICIES  # type: ignore[import-not-found]  # the CLI puts the pack directory on sys.path

PolicyPack(
    name="broxiva-platform-policies",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    description="Guardrails of the Broxiva platform on Azure AKS: cluster identity and networking, Key Vault, "
    "registry, roles, tags, protection, DNS, pod security, images, Helm charts and blue/green consistency.",
    display_name="Broxiva platform policies",
    provider="azure",
    tags=["azure", "aks", "kubernetes", "broxiva"],
)
