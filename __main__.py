"""The Broxiva platform: configuration in, components wired together, outputs out."""

import pulumi

from components import config

platform = config.load()
cfg = platform.config

pulumi.export("environment", cfg.environment)
pulumi.export("activeColor", cfg.active_color)
