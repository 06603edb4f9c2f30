"""The apps layer (``broxiva:apps:*``): blue/green releases of the apps and the routes that carry traffic."""
