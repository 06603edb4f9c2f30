"""The environment's Azure Managed Redis: TLS only, private endpoint only; its access key is the vault's."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pulumi
from pulumi_azure_native import redisenterprise

from ..config import RedisConfig
from ..options import removable
from .context import Placement
from .private_link import Endpoint, private_endpoint

DATABASE_NAME = "default"
"""The only database name an Azure Managed Redis cluster accepts."""


def redis_url(host: str, port: int, key: str) -> str:
    """The app's REDIS_URL: TLS (rediss), the access key as password."""
    return f"rediss://:{quote(key, safe='')}@{host}:{port}"


@dataclass(frozen=True)
class ManagedRedisArgs:
    placement: Placement
    """Group, region, tags; protect applies to the cache and its database."""
    redis: RedisConfig
    """Name, SKU, HA, eviction."""
    endpoint: Endpoint
    """The private-endpoint subnet and the privatelink.redis.azure.net zone."""


class ManagedRedis(pulumi.ComponentResource):
    """Azure Managed Redis (Microsoft.Cache/redisEnterprise) with public access off, TLS 1.2 on port 10000 and
    access-key sign-in. The key is Azure's: read from the database, never generated here."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    access_key: pulumi.Output[str]
    url: pulumi.Output[str]
    cache_id: pulumi.Output[str]
    database_id: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedRedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:ManagedRedis", name, None, opts)
        cfg = args.redis
        where = args.placement
        cache = redisenterprise.RedisEnterprise(
            f"{name}-cache",
            cluster_name=cfg.name,
            sku=redisenterprise.SkuArgs(name=cfg.sku),
            high_availability="Enabled" if cfg.high_availability else "Disabled",
            minimum_tls_version="1.2",
            public_network_access="Disabled",
            **where.located(),
            opts=where.kept(self),
        )
        database = redisenterprise.Database(
            f"{name}-database",
            cluster_name=cache.name,
            resource_group_name=where.resource_group_name,
            database_name=DATABASE_NAME,
            client_protocol="Encrypted",
            port=cfg.port,
            # One endpoint for every key (clients need no cluster support).
            clustering_policy="EnterpriseCluster",
            eviction_policy=cfg.eviction_policy,
            # New databases default to Entra ID only; the apps sign in with the access key.
            access_keys_authentication="Enabled",
            opts=where.kept(cache),
        )
        private_endpoint(
            f"{name}-endpoint",
            where=where,
            endpoint=args.endpoint,
            target_id=cache.id,
            target_name=cfg.name,
            group_id="redisEnterprise",
            opts=removable(cache),
        )
        # Read on every run, so a key regenerated in Azure reaches the vault at the next `up`. The inputs are the
        # database's outputs: unknown in the preview that creates it, so the preview never asks Azure for the
        # keys of a database that does not exist yet.
        keys = redisenterprise.list_database_keys_output(
            cluster_name=cache.name, database_name=database.name, resource_group_name=where.resource_group_name
        )
        self.host = cache.host_name
        self.cache_id = cache.id
        self.database_id = database.id
        self.port = database.port.apply(lambda p: p or cfg.port)
        self.access_key = pulumi.Output.secret(keys.primary_key)
        self.url = pulumi.Output.secret(
            pulumi.Output.all(self.host, self.port, self.access_key).apply(lambda v: redis_url(v[0], v[1], v[2]))
        )
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "access_key": self.access_key,
                "url": self.url,
                "cache_id": self.cache_id,
                "database_id": self.database_id,
            }
        )
