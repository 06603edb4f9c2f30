"""The environment's PostgreSQL flexible server: private access only, TLS only, one password shared with the vault."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pulumi
from pulumi_azure_native import dbforpostgresql as pg

from ..config import PostgresConfig
from ..options import removable
from .context import Placement


def postgres_url(cfg: PostgresConfig, host: str, password: str) -> str:
    """The app's DATABASE_URL: the administrator login on the application database, TLS required."""
    user = quote(cfg.admin_user, safe="")
    return f"postgresql://{user}:{quote(password, safe='')}@{host}:{cfg.port}/{cfg.database}?sslmode={cfg.sslmode}"


@dataclass(frozen=True)
class PostgresServerArgs:
    placement: Placement
    """Group, region, tags; protect applies to the server and its database."""
    postgres: PostgresConfig
    """Version, size, backups, HA, names."""
    subnet_id: pulumi.Input[str]
    """The subnet delegated to flexible servers."""
    private_zone_id: pulumi.Input[str]
    """The linked private DNS zone the server registers its name in."""
    admin_password: pulumi.Output[str]
    """The generated postgres-password (a secret): the administrator's password and the vault's value."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the Entra administrator."""


class PostgresServer(pulumi.ComponentResource):
    """A flexible server inside the VNet (no public endpoint), TLS required, Entra ID and password sign-in,
    the application database, and backups as the environment asks."""

    server_id: pulumi.Output[str]
    host: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: PostgresServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:PostgresServer", name, None, opts)
        cfg = args.postgres
        where = args.placement
        zone_redundant = cfg.high_availability == "ZoneRedundant"
        server = pg.Server(
            f"{name}-server",
            server_name=cfg.server_name,
            version=cfg.version,
            sku=pg.SkuArgs(name=cfg.sku, tier=cfg.tier),
            storage=pg.StorageArgs(storage_size_gb=cfg.storage_gb, auto_grow="Enabled"),
            backup=pg.BackupArgs(
                backup_retention_days=cfg.backup_retention_days,
                geo_redundant_backup="Enabled" if cfg.geo_redundant_backup else "Disabled",
            ),
            high_availability=pg.HighAvailabilityArgs(
                mode=cfg.high_availability, standby_availability_zone=cfg.standby_zone if zone_redundant else None
            ),
            availability_zone=cfg.zone,
            # VNet integration: the server gets an address in the delegated subnet and no public endpoint.
            network=pg.NetworkArgs(
                delegated_subnet_resource_id=args.subnet_id, private_dns_zone_arm_resource_id=args.private_zone_id
            ),
            auth_config=pg.AuthConfigArgs(
                active_directory_auth="Enabled", password_auth="Enabled", tenant_id=args.tenant_id
            ),
            administrator_login=cfg.admin_user,
            # "As long as password authentication is enabled, this password can be changed at any time"
            # (the SDK's administrator_login_password): a rotation updates the server in place.
            administrator_login_password=args.admin_password,
            **where.located(),
            opts=where.kept(
                self,
                # Storage grows on its own (auto_grow) and never shrinks; after a failover the primary and
                # standby zones swap. Declaring the initial values again would fight both.
                ignore_changes=[
                    "storage.storageSizeGB",
                    "availabilityZone",
                    "highAvailability.standbyAvailabilityZone",
                ],
            ),
        )
        # One server operation at a time: Azure refuses concurrent changes (ServerBusy).
        admin = pg.AdministratorsMicrosoftEntra(
            f"{name}-entra-admin",
            server_name=server.name,
            resource_group_name=where.resource_group_name,
            object_id=cfg.entra_admin.object_id,
            principal_name=cfg.entra_admin.name,
            principal_type="group",  # the API's enum is lowercase (PrincipalType: user, servicePrincipal, group)
            tenant_id=args.tenant_id,
            opts=removable(server),
        )
        # Pinned rather than left to defaults that may change: TLS required, 1.2 at least.
        previous: pulumi.Resource = admin
        for label, parameter, value in (
            ("require-tls", "require_secure_transport", "on"),
            ("tls-version", "ssl_min_protocol_version", "TLSv1.2"),
        ):
            previous = pg.Configuration(
                f"{name}-{label}",
                server_name=server.name,
                resource_group_name=where.resource_group_name,
                configuration_name=parameter,
                value=value,
                source="user-override",
                opts=removable(server, depends_on=[previous]),
            )
        pg.Database(
            f"{name}-database",
            server_name=server.name,
            resource_group_name=where.resource_group_name,
            database_name=cfg.database,
            charset="UTF8",
            collation="en_US.utf8",
            # The data itself: kept like the server.
            opts=where.kept(server, depends_on=[admin]),
        )

        self.server_id = server.id
        self.host = server.fully_qualified_domain_name.apply(lambda h: h or "")
        self.url = pulumi.Output.secret(
            pulumi.Output.all(self.host, args.admin_password).apply(lambda v: postgres_url(cfg, v[0], v[1]))
        )
        self.register_outputs({"server_id": self.server_id, "host": self.host, "url": self.url})
