"""The broxiva-platform policy pack (run by the Pulumi CLI from this directory: ``--policy-pack policy``)."""
