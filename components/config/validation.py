"""Pure validation helpers for stack configuration.

Each function answers one question about one value and returns ``None`` when the
value is acceptable, or a short sentence saying what is allowed. They hold no
Pulumi state, so they are tested table-driven in ``tests/test_validation.py``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS1123_LABEL = _DNS_LABEL
_KEY_VAULT = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
_ACR = re.compile(r"^[a-zA-Z0-9]{5,50}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
_AKS_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")

_CPU_RE = re.compile(r"(\d{1,12}(\.\d{1,9})?)(m)?")
_MEM_RE = re.compile(r"(\d{1,15}(\.\d{1,9})?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
_MEM_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}

AKS_MAX_NODES_PER_POOL = 1000


def parse_cpu(value: str) -> Decimal:
    """Parse a Kubernetes CPU quantity (``250m``, ``1``, ``0.5``) into cores."""
    match = _CPU_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a CPU quantity (use millicores like 250m, or cores like 1)")
    amount = Decimal(match.group(1))
    return amount / 1000 if match.group(3) else amount


def parse_memory(value: str) -> int:
    """Parse a Kubernetes memory quantity (``512Mi``, ``1Gi``, ``1G``) into bytes."""
    match = _MEM_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a memory quantity (use binary units like 512Mi or 1Gi)")
    try:
        amount = Decimal(match.group(1)) * _MEM_FACTORS[match.group(3)]
    except InvalidOperation as exc:  # pragma: no cover - regex already bounds the form
        raise ValueError(f"{value!r} is not a memory quantity") from exc
    if amount != amount.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of bytes")
    return int(amount)


def dns_name_problem(name: str, *, allow_wildcard: bool = False) -> str | None:
    """Why ``name`` is not a valid lowercase DNS name, or ``None``."""
    if not isinstance(name, str) or not name:
        return "a lowercase DNS name such as api.broxiva.com"
    if len(name) > 253:
        return "a DNS name of at most 253 characters"
    labels = name.split(".")
    if allow_wildcard and labels[0] == "*":
        labels = labels[1:]
        if not labels:
            return "a wildcard over a domain, such as *.dev.broxiva.com"
    for label in labels:
        if not _DNS_LABEL.fullmatch(label):
            return (
                "a lowercase DNS name: labels of 1-63 letters, digits or hyphens, "
                "not starting or ending with a hyphen" + (", optionally starting with '*.'" if allow_wildcard else "")
            )
    if len(labels) < 2:
        return "a fully qualified DNS name with at least two labels"
    return None


def in_zone(name: str, zone: str) -> bool:
    """Whether ``name`` is the zone apex or a name below it (wildcards included)."""
    return name == zone or name.endswith("." + zone)


def relative_record_name(name: str, zone: str) -> str:
    """The record-set name of ``name`` inside ``zone`` (``@`` for the apex)."""
    if name == zone:
        return "@"
    if not name.endswith("." + zone):
        raise ValueError(f"{name} is not inside the zone {zone}")
    return name[: -(len(zone) + 1)]


def dns1123_label_problem(name: str) -> str | None:
    """Why ``name`` is not a Kubernetes DNS-1123 label (namespaces, Services), or ``None``."""
    if isinstance(name, str) and _DNS1123_LABEL.fullmatch(name):
        return None
    return "a DNS-1123 label: 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit"


def key_vault_name_problem(name: str) -> str | None:
    """Azure Key Vault names: 3-24 characters, letters, digits and single hyphens."""
    if isinstance(name, str) and _KEY_VAULT.fullmatch(name) and "--" not in name:
        return None
    return (
        "a Key Vault name: 3-24 characters, letters, digits and hyphens, starting with a letter, "
        "ending with a letter or digit, no consecutive hyphens"
    )


def acr_name_problem(name: str) -> str | None:
    """Azure Container Registry names: 5-50 alphanumeric characters (lowercase here)."""
    if isinstance(name, str) and _ACR.fullmatch(name) and name == name.lower():
        return None
    return "a container registry name: 5-50 lowercase letters and digits"


def resource_group_name_problem(name: str) -> str | None:
    """Azure resource group names: 1-90 characters, not ending with a period."""
    if isinstance(name, str) and _RESOURCE_GROUP.fullmatch(name) and not name.endswith("."):
        return None
    return "a resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'"


# /subscriptions/<uuid>/resourceGroups/<group>[/providers/<Namespace>/<type>/<name>]; ARM compares the
# segment keywords, namespaces and types without regard to case.
_ARM_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?P<group>[-\w._()]{1,90})"
    r"(?:/providers/(?P<type>[A-Za-z][\w.]*/[A-Za-z]\w*)/(?P<name>[^/\s]+))?$",
    re.IGNORECASE,
)
RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"


@dataclass(frozen=True)
class ArmId:
    """The parts of an Azure resource ID this program checks."""

    subscription: str
    group: str
    type: str
    """Provider namespace and type (Microsoft.KeyVault/vaults), or Microsoft.Resources/resourceGroups."""
    name: str


def parse_arm_id(value: str) -> ArmId | None:
    """The parts of a top-level Azure resource ID (or a resource group's), or None if it is not one."""
    found = _ARM_ID.fullmatch(value) if isinstance(value, str) else None
    if found is None or not _UUID.fullmatch(found["subscription"]):
        return None
    if found["type"] is None:
        return ArmId(found["subscription"], found["group"], RESOURCE_GROUP_TYPE, found["group"])
    return ArmId(found["subscription"], found["group"], found["type"], found["name"])


def arm_id_problem(value: str, resource_type: str) -> str | None:
    """An existing resource to adopt: a well-formed Azure resource ID of ``resource_type``."""
    parsed = parse_arm_id(value)
    if parsed is not None and parsed.type.lower() == resource_type.lower():
        return None
    if resource_type == RESOURCE_GROUP_TYPE:
        return "a resource group ID: /subscriptions/<subscription id>/resourceGroups/<name>"
    return (
        f"the resource ID of a {resource_type}: "
        f"/subscriptions/<subscription id>/resourceGroups/<group>/providers/{resource_type}/<name>"
    )


def aks_name_problem(name: str) -> str | None:
    """AKS cluster names: 1-63 characters, letters, digits, '-' and '_'."""
    if isinstance(name, str) and _AKS_NAME.fullmatch(name):
        return None
    return "an AKS cluster name: 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit"


def uuid_problem(value: str) -> str | None:
    """Entra ID object and client IDs are UUIDs."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return None
    return "a UUID such as 00000000-0000-0000-0000-000000000000"


def cidr_problem(value: str) -> str | None:
    """IPv4/IPv6 CIDR ranges (a bare address counts as /32)."""
    # ip_network takes integers too (5 is 0.0.0.5/32): only strings are ranges here.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            ipaddress.ip_network(value, strict=True)
            return None
    return "an IP range in CIDR form with no host bits set, such as 203.0.113.0/24"


def image_tag_problem(tag: str, pattern: str | None = None) -> str | None:
    """Image tags: a valid OCI tag, never ``latest``, and of the environment's form."""
    if not isinstance(tag, str) or not _IMAGE_TAG.fullmatch(tag):
        return "a non-empty OCI image tag (letters, digits, '_', '.', '-'; at most 128)"
    if tag.lower() == "latest":
        return "a pinned image tag; 'latest' is never deployed"
    if pattern and not re.fullmatch(pattern, tag):
        return f"a tag matching {pattern}"
    return None


def email_problem(value: str) -> str | None:
    """A plain e-mail address (ACME registration)."""
    if isinstance(value, str) and _EMAIL.fullmatch(value):
        return None
    return "an e-mail address such as platform@broxiva.com"


def regex_problem(pattern: str) -> str | None:
    """A pattern must compile as a Python regular expression (of a sane size)."""
    if not isinstance(pattern, str):
        return "a valid regular expression"
    if len(pattern) > 200:
        return "a regular expression of at most 200 characters"
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return "a valid regular expression"
    return None


# --------------------------------------------------------------------------- network

SUBNET_MIN_PREFIX: dict[str, int] = {"nodes": 24, "private_endpoints": 28, "postgres": 28}
"""The smallest subnet each role accepts (prefix length): room for every node of the largest pool plus surge
(overlay pods take no subnet IPs), for a private endpoint per service, and Azure's minimum for a delegated
flexible server subnet."""


def overlapping(networks: dict[str, str]) -> tuple[str, str] | None:
    """The first two labels whose CIDRs overlap, in order; None when they are all apart."""
    parsed = {label: ipaddress.ip_network(cidr, strict=False) for label, cidr in networks.items()}
    labels = list(parsed)
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            if parsed[first].overlaps(parsed[second]):
                return first, second
    return None


# --------------------------------------------------------------------------- node OS disks

# Cache size in GiB of the VM sizes the stacks use: an ephemeral OS disk lives in it ("Dsv3-series" size table,
# "Max cached and temp storage throughput ... (cache size in GiB)"; AKS "Ephemeral OS disk").
VM_CACHE_GB: dict[str, int] = {
    "Standard_D2s_v3": 50,
    "Standard_D4s_v3": 100,
    "Standard_D8s_v3": 200,
    "Standard_D16s_v3": 400,
    "Standard_D32s_v3": 800,
    "Standard_D48s_v3": 1200,
    "Standard_D64s_v3": 1600,
}
EPHEMERAL_MIN_GB = 30
MANAGED_DEFAULT_GB = 128


def os_disk(vm_size: str, disk_type: str | None, size_gb: int | None) -> tuple[str, int]:
    """(type, size) of a pool's OS disk: ephemeral in the VM's cache where it fits, else managed."""
    cache = VM_CACHE_GB.get(vm_size, 0)
    if disk_type is None:
        disk_type = "Ephemeral" if cache >= max(size_gb or 0, EPHEMERAL_MIN_GB) else "Managed"
    if disk_type == "Ephemeral":
        return disk_type, size_gb or cache
    return disk_type, size_gb or MANAGED_DEFAULT_GB


def os_disk_problem(vm_size: str, disk_type: str | None, size_gb: int | None) -> str | None:
    """Why an explicit ephemeral OS disk does not fit the VM size's cache."""
    if disk_type != "Ephemeral":
        return None
    cache = VM_CACHE_GB.get(vm_size)
    if cache is None:
        known = ", ".join(VM_CACHE_GB)
        return f"Managed for {vm_size}, whose cache size is not known here (ephemeral is checked for: {known})"
    if cache < EPHEMERAL_MIN_GB:
        return f"Managed: the cache of {vm_size} ({cache} GiB) is below {EPHEMERAL_MIN_GB} GiB"
    if size_gb is not None and size_gb > cache:
        return f"<= {cache} (the cache of {vm_size}) for an ephemeral OS disk"
    return None


# --------------------------------------------------------------------------- data services and secrets

POSTGRES_RESERVED_LOGINS = frozenset(
    {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"}
)
"""Administrator names a flexible server refuses (besides any starting with pg_)."""

_ROTATION = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?(?:\.[A-Za-z0-9]{1,16})?$")


def rotation_date(stamp: str) -> datetime.date:
    """The date a rotation stamp stands for (the first of the month for YYYY-MM)."""
    match = _ROTATION.fullmatch(stamp)
    if not match:
        raise ValueError(f"{stamp!r} is not a rotation stamp")
    year, month, day = match.groups()
    return datetime.date(int(year), int(month), int(day or 1))


def rotation_stamp_problem(stamp: str) -> str | None:
    try:
        rotation_date(stamp)
    except ValueError:
        return "a rotation stamp YYYY-MM or YYYY-MM-DD, optionally with a suffix like .2 (e.g. 2026-11)"
    return None


def expiry_epoch(stamp: str, days: int) -> int:
    """Seconds since the epoch (UTC midnight) ``days`` after the stamp's date: Key Vault's ``exp``."""
    expires = rotation_date(stamp) + datetime.timedelta(days=days)
    return int(datetime.datetime.combine(expires, datetime.time(), tzinfo=datetime.UTC).timestamp())


def http_path_problem(path: str) -> str | None:
    """Why a request path cannot be sent as is (smoke checks)."""
    if not path.startswith("/"):
        return "a path starting with '/' (like /api/health)"
    if not re.fullmatch(r"/[A-Za-z0-9/_.~%?=&-]*", path):
        return "a path of letters, digits and / _ . ~ % ? = & - (no spaces or quotes)"
    return None


_PINNED_IMAGE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}")


def pinned_image_problem(image: str) -> str | None:
    """Why an image is not a repository path pinned by digest (tags move; a digest names one image)."""
    if _PINNED_IMAGE.fullmatch(image):
        return None
    return "a repository under registry.server pinned by digest: <repository>@sha256:<64 hex digits>"
