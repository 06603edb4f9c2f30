"""The Azure layer (``broxiva:azure:*``): what each environment needs from Azure before Kubernetes exists.

Every component takes a :class:`~components.azure.context.Placement` (group, region, tags, subscription,
protection) and only the slice of config it uses.
"""
