"""Table-driven tests of the pure helpers in components/config/validation.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from components.config import validation as v

# --------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("250m", Decimal("0.25")),
        ("100m", Decimal("0.1")),
        ("1000m", Decimal("1")),
        ("1500m", Decimal("1.5")),
        ("1m", Decimal("0.001")),
        ("1.5m", Decimal("0.0015")),
        ("0m", Decimal("0")),
        ("0", Decimal("0")),
        ("1", Decimal("1")),
        ("2", Decimal("2")),
        ("0.5", Decimal("0.5")),
        ("16", Decimal("16")),
    ],
)
def test_parse_cpu_valid(text, cores):
    parsed = v.parse_cpu(text)
    assert isinstance(parsed, Decimal)
    assert parsed == cores


@pytest.mark.parametrize(
    "text",
    [
        "",
        "m",
        "-1",
        "-250m",
        "1.",
        ".5",
        "1 m",
        " 1",
        "1c",
        "1M",
        "250mi",
        "1e3",
        "1,5",
        "one",
        None,
        1,
        0.5,
    ],
)
def test_parse_cpu_invalid(text):
    with pytest.raises(ValueError, match="is not a CPU quantity"):
        v.parse_cpu(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1", 1),
        ("128974848", 128974848),
        ("1k", 1000),
        ("1M", 1000**2),
        ("1G", 1000**3),
        ("1T", 1000**4),
        ("1P", 1000**5),
        ("1E", 1000**6),
        ("1Ki", 1024),
        ("512Mi", 512 * 1024**2),
        ("1536Mi", 1536 * 1024**2),
        ("1Gi", 1024**3),
        ("1Ti", 1024**4),
        ("1Pi", 1024**5),
        ("1Ei", 1024**6),
        ("0.5Gi", 512 * 1024**2),
        ("1.5Ki", 1536),
        ("1.1k", 1100),
        ("0.001M", 1000),
    ],
)
def test_parse_memory_valid(text, size):
    parsed = v.parse_memory(text)
    assert type(parsed) is int
    assert parsed == size


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Mi",
        "-1Gi",
        "1 Gi",
        "1GB",
        "1gi",
        "1K",
        "1m",
        "1mi",
        "1.Gi",
        ".5Gi",
        "1e3",
        "512MiB",
        None,
        512,
    ],
)
def test_parse_memory_invalid(text):
    with pytest.raises(ValueError, match="is not a memory quantity"):
        v.parse_memory(text)


@pytest.mark.parametrize("text", ["0.5", "1.5", "0.0001k", "0.3Ki"])
def test_parse_memory_fractional_bytes(text):
    with pytest.raises(ValueError, match="is not a whole number of bytes"):
        v.parse_memory(text)


# --------------------------------------------------------------------------- DNS names


def _name_of_length(length: int) -> str:
    """A valid DNS name of exactly ``length`` characters (63-character labels, then the rest)."""
    labels: list[str] = []
    remaining = length
    while remaining > 0:
        size = min(63, remaining)
        if remaining - size == 1:  # never leave a lone dot
            size -= 2
        labels.append("a" * size)
        remaining -= size + 1
    name = ".".join(labels)
    assert len(name) == length
    return name


@pytest.mark.parametrize(
    "name",
    [
        "broxiva.com",
        "api.broxiva.com",
        "api-dev.broxiva.com",
        "broxiva-dev-pg.postgres.database.azure.com",
        "a.b",
        "0.example.org",
        "x1.y2",
        "a" * 63 + ".com",
        _name_of_length(253),
    ],
)
def test_dns_name_valid(name):
    assert v.dns_name_problem(name) is None
    assert v.dns_name_problem(name, allow_wildcard=True) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "a lowercase DNS name such as api.broxiva.com"),
        (None, "a lowercase DNS name such as api.broxiva.com"),
        (42, "a lowercase DNS name such as api.broxiva.com"),
        ("broxiva", "a fully qualified DNS name with at least two labels"),
        ("localhost", "a fully qualified DNS name with at least two labels"),
        (_name_of_length(254), "a DNS name of at most 253 characters"),
        ("API.broxiva.com", "labels of 1-63 letters"),
        ("-api.broxiva.com", "labels of 1-63 letters"),
        ("api-.broxiva.com", "labels of 1-63 letters"),
        ("api..broxiva.com", "labels of 1-63 letters"),
        ("api.broxiva.com.", "labels of 1-63 letters"),
        (".broxiva.com", "labels of 1-63 letters"),
        ("api_x.broxiva.com", "labels of 1-63 letters"),
        ("api broxiva.com", "labels of 1-63 letters"),
        ("a" * 64 + ".com", "labels of 1-63 letters"),
        ("*.broxiva.com", "labels of 1-63 letters"),
        ("ünï.com", "labels of 1-63 letters"),
    ],
)
def test_dns_name_invalid_without_wildcard(name, problem):
    issue = v.dns_name_problem(name)
    assert issue is not None
    assert problem in issue
    assert "'*.'" not in issue


@pytest.mark.parametrize("name", ["*.broxiva.com", "*.dev.broxiva.com", "*.a.b"])
def test_dns_name_wildcard_allowed_only_when_asked(name):
    assert v.dns_name_problem(name, allow_wildcard=True) is None
    assert v.dns_name_problem(name) is not None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("*", "a wildcard over a domain, such as *.dev.broxiva.com"),
        ("*.com", "a fully qualified DNS name with at least two labels"),
        ("a.*.broxiva.com", "optionally starting with '*.'"),
        ("*.*.broxiva.com", "optionally starting with '*.'"),
        ("**.broxiva.com", "optionally starting with '*.'"),
        ("*api.broxiva.com", "optionally starting with '*.'"),
        ("*.Broxiva.com", "optionally starting with '*.'"),
        ("", "a lowercase DNS name such as api.broxiva.com"),
    ],
)
def test_dns_name_invalid_with_wildcard(name, problem):
    issue = v.dns_name_problem(name, allow_wildcard=True)
    assert issue is not None
    assert problem in issue


@pytest.mark.parametrize(
    ("name", "zone", "inside"),
    [
        ("broxiva.com", "broxiva.com", True),
        ("api.broxiva.com", "broxiva.com", True),
        ("a.b.broxiva.com", "broxiva.com", True),
        ("*.dev.broxiva.com", "broxiva.com", True),
        ("*.broxiva.com", "broxiva.com", True),
        ("notbroxiva.com", "broxiva.com", False),
        ("broxiva.com.evil.org", "broxiva.com", False),
        ("api.broxiva.co", "broxiva.com", False),
        ("com", "broxiva.com", False),
        ("api.example.com", "broxiva.com", False),
        ("broxiva.com", "api.broxiva.com", False),
    ],
)
def test_in_zone(name, zone, inside):
    assert v.in_zone(name, zone) is inside


@pytest.mark.parametrize(
    ("name", "zone", "relative"),
    [
        ("broxiva.com", "broxiva.com", "@"),
        ("api.broxiva.com", "broxiva.com", "api"),
        ("api-dev.broxiva.com", "broxiva.com", "api-dev"),
        ("a.b.broxiva.com", "broxiva.com", "a.b"),
        ("*.dev.broxiva.com", "broxiva.com", "*.dev"),
        ("*.broxiva.com", "broxiva.com", "*"),
        ("www.dev.broxiva.com", "dev.broxiva.com", "www"),
    ],
)
def test_relative_record_name(name, zone, relative):
    assert v.relative_record_name(name, zone) == relative


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("notbroxiva.com", "broxiva.com"),
        ("api.example.com", "broxiva.com"),
        ("broxiva.com", "api.broxiva.com"),
        ("com", "broxiva.com"),
    ],
)
def test_relative_record_name_outside_zone(name, zone):
    with pytest.raises(ValueError, match=f"is not inside the zone {zone}"):
        v.relative_record_name(name, zone)


# --------------------------------------------------------------------------- Kubernetes and Azure names


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("broxiva-api", True),
        ("broxiva-production", True),
        ("a", True),
        ("0", True),
        ("0abc", True),
        ("abc0", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
        ("-api", False),
        ("api-", False),
        ("API", False),
        ("Broxiva-api", False),
        ("broxiva_api", False),
        ("broxiva.api", False),
        ("broxiva api", False),
        (None, False),
        (7, False),
    ],
)
def test_dns1123_label(name, ok):
    issue = v.dns1123_label_problem(name)
    if ok:
        assert issue is None
    else:
        assert issue is not None
        assert "a DNS-1123 label" in issue


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("ab", False),  # 2 characters
        ("abc", True),  # 3 characters
        ("a" + "b" * 23, True),  # 24 characters
        ("a" + "b" * 24, False),  # 25 characters
        ("broxiva-kv", True),
        ("broxiva-dev-kv", True),
        ("Broxiva-KV-01", True),
        ("a-1", True),
        ("broxiva--kv", False),  # consecutive hyphens
        ("a--b", False),
        ("1broxiva", False),  # leading digit
        ("-broxiva", False),
        ("broxiva-", False),
        ("broxiva_kv", False),
        ("broxiva.kv", False),
        ("", False),
        (None, False),
    ],
)
def test_key_vault_name(name, ok):
    issue = v.key_vault_name_problem(name)
    if ok:
        assert issue is None
    else:
        assert issue is not None
        assert "a Key Vault name: 3-24 characters" in issue


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("broxivaprodacr", True),
        ("abcde", True),  # 5 characters
        ("abcd", False),  # 4 characters
        ("a" * 50, True),
        ("a" * 51, False),
        ("12345", True),
        ("broxiva1", True),
        ("Broxivaprodacr", False),
        ("BROXIVAACR", False),
        ("broxiva-acr", False),
        ("broxiva_acr", False),
        ("broxiva.acr", False),
        ("", False),
        (None, False),
    ],
)
def test_acr_name(name, ok):
    issue = v.acr_name_problem(name)
    if ok:
        assert issue is None
    else:
        assert issue is not None
        assert "a container registry name: 5-50 lowercase letters and digits" in issue


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("broxiva-dev-rg", True),
        ("broxiva-dns-rg", True),
        ("a", True),
        ("rg_(x).1", True),
        ("MC_broxiva_aks_eastus", True),
        ("a" * 90, True),
        ("a" * 91, False),
        ("", False),
        ("rg.", False),
        ("broxiva.rg.", False),
        ("rg/x", False),
        ("rg x", False),
        ("rg#1", False),
        (None, False),
    ],
)
def test_resource_group_name(name, ok):
    issue = v.resource_group_name_problem(name)
    if ok:
        assert issue is None
    else:
        assert issue is not None
        assert "a resource group name: 1-90" in issue


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("broxiva-dev-aks", True),
        ("broxiva_prod_aks", True),
        ("Broxiva1", True),
        ("a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
        ("-aks", False),
        ("aks-", False),
        ("_aks", False),
        ("aks_", False),
        ("broxiva.aks", False),
        ("broxiva aks", False),
        (None, False),
    ],
)
def test_aks_name(name, ok):
    issue = v.aks_name_problem(name)
    if ok:
        assert issue is None
    else:
        assert issue is not None
        assert "an AKS cluster name: 1-63" in issue


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c", True),
        ("5B7A4C1E-3F0D-4A8E-9B6C-2D1E0F3A4B5C", True),
        ("00000000-0000-0000-0000-000000000000", True),
        ("5b7a4c1e3f0d4a8e9b6c2d1e0f3a4b5c", False),
        ("5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5", False),
        ("5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5cd", False),
        ("gb7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c", False),
        ("{5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c}", False),
        ("5b7a4c1e_3f0d_4a8e_9b6c_2d1e0f3a4b5c", False),
        ("", False),
        (None, False),
    ],
)
def test_uuid(value, ok):
    issue = v.uuid_problem(value)
    if ok:
        assert issue is None
    else:
        assert issue == "a UUID such as 00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.0/16", True),
        ("10.244.0.0/16", True),
        ("203.0.113.0/24", True),
        ("0.0.0.0/0", True),
        ("10.0.0.1", True),  # a bare address is a /32
        ("10.0.0.1/32", True),
        ("2001:db8::/32", True),
        ("2001:db8::1", True),
        ("10.0.0.1/16", False),  # host bits set
        ("203.0.113.7/24", False),
        ("2001:db8::1/32", False),
        ("10.0.0.0/33", False),
        ("10.0.0/8", False),
        ("256.0.0.0/8", False),
        ("10.0.0.0/", False),
        ("office", False),
        ("", False),
        (None, False),
    ],
)
def test_cidr(value, ok):
    issue = v.cidr_problem(value)
    if ok:
        assert issue is None
    else:
        assert issue == "an IP range in CIDR form with no host bits set, such as 203.0.113.0/24"


# --------------------------------------------------------------------------- image tags


PROD_PATTERN = r"^v\d+\.\d+\.\d+$"
DEV_PATTERN = r"^dev-[0-9a-f]{7,40}$"


@pytest.mark.parametrize(
    ("tag", "pattern", "problem"),
    [
        ("v1.4.2", None, None),
        ("v1.4.2", PROD_PATTERN, None),
        ("dev-3f2c1a9", DEV_PATTERN, None),
        ("staging-1.4.2-rc.1", r"^staging-\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$", None),
        ("_build", None, None),
        ("1.0", None, None),
        ("a" * 128, None, None),
        ("v1.4.2", "", None),  # an empty pattern means no pattern
        ("latest", None, "a pinned image tag; 'latest' is never deployed"),
        ("LATEST", None, "a pinned image tag; 'latest' is never deployed"),
        ("Latest", None, "a pinned image tag; 'latest' is never deployed"),
        ("latest", ".*", "a pinned image tag; 'latest' is never deployed"),
        ("latest", "latest", "a pinned image tag; 'latest' is never deployed"),
        ("", None, "a non-empty OCI image tag"),
        ("", ".*", "a non-empty OCI image tag"),
        ("a" * 129, None, "a non-empty OCI image tag"),
        (".v1", None, "a non-empty OCI image tag"),
        ("-v1", None, "a non-empty OCI image tag"),
        ("v1 .2", None, "a non-empty OCI image tag"),
        ("v1:2", None, "a non-empty OCI image tag"),
        ("v1/2", None, "a non-empty OCI image tag"),
        (None, None, "a non-empty OCI image tag"),
        (142, None, "a non-empty OCI image tag"),
        ("1.4.2", PROD_PATTERN, f"a tag matching {PROD_PATTERN}"),
        ("v1.4.2-rc1", PROD_PATTERN, f"a tag matching {PROD_PATTERN}"),
        ("v1.4", PROD_PATTERN, f"a tag matching {PROD_PATTERN}"),
        ("dev-3F2C1A9", DEV_PATTERN, f"a tag matching {DEV_PATTERN}"),
        ("dev-3f2c1a", DEV_PATTERN, f"a tag matching {DEV_PATTERN}"),
        ("v1x", r"v\d", r"a tag matching v\d"),  # the whole tag must match
        ("xv1", r"v\d", r"a tag matching v\d"),
    ],
)
def test_image_tag(tag, pattern, problem):
    issue = v.image_tag_problem(tag, pattern)
    if problem is None:
        assert issue is None
    else:
        assert issue is not None
        assert issue.startswith(problem)


# --------------------------------------------------------------------------- e-mail and patterns


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("platform@broxiva.com", True),
        ("platform-team+acme@ops.broxiva.co", True),
        ("A.B@broxiva.com", True),
        ("platform", False),
        ("platform@", False),
        ("@broxiva.com", False),
        ("platform@broxiva", False),
        ("platform@broxiva.", False),
        ("plat form@broxiva.com", False),
        ("a@b@broxiva.com", False),
        ("platform@broxiva_com.org", False),
        ("", False),
        (None, False),
    ],
)
def test_email(value, ok):
    issue = v.email_problem(value)
    if ok:
        assert issue is None
    else:
        assert issue == "an e-mail address such as platform@broxiva.com"


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (PROD_PATTERN, True),
        (DEV_PATTERN, True),
        (r"^staging-\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$", True),
        (".*", True),
        ("", True),
        ("(", False),
        ("^v(\\d+", False),
        ("[a-", False),
        ("*a", False),
        ("a{2,1}", False),
        ("(?P<x>a)(?P<x>b)", False),
        (None, False),
        (5, False),
    ],
)
def test_regex(pattern, ok):
    issue = v.regex_problem(pattern)
    if ok:
        assert issue is None
    else:
        assert issue == "a valid regular expression"


# --------------------------------------------------------------------------- regressions
# Each case below pins a defect that was found and fixed.


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (v.dns_name_problem, "api.broxiva.com\n"),
        (v.dns1123_label_problem, "broxiva-api\n"),
        (v.key_vault_name_problem, "broxiva-kv\n"),
        (v.acr_name_problem, "broxivaprodacr\n"),
        (v.resource_group_name_problem, "broxiva-dev-rg\n"),
        (v.aks_name_problem, "broxiva-dev-aks\n"),
        (v.uuid_problem, "5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c\n"),
        (v.image_tag_problem, "v1.4.2\n"),
        (v.email_problem, "platform@broxiva.com\n"),
    ],
)
def test_regression_trailing_newline_is_refused(check, value):
    assert check(value) is not None


@pytest.mark.parametrize(("parse", "text"), [(v.parse_cpu, "250m\n"), (v.parse_memory, "512Mi\n")])
def test_regression_quantity_with_trailing_newline_is_refused(parse, text):
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize(
    "pattern",
    [pytest.param("a{4294967296}", id="huge-repeat"), pytest.param("(" * 2000 + ")" * 2000, id="deep-nesting")],
)
def test_regression_regex_problem_never_raises(pattern):
    assert v.regex_problem(pattern) in ("a valid regular expression", "a regular expression of at most 200 characters")


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (v.parse_memory, "123456789012345678901234567891"),
        (v.parse_cpu, "1234567890123456789012345678901m"),
        (v.parse_memory, "1.000000000000000000000000000001Gi"),
    ],
)
def test_regression_quantities_beyond_exact_precision_are_refused(parse, text):
    # Decimal keeps 28 significant digits; quantities that long are refused rather than rounded.
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (v.parse_memory, "999999999999999", 999999999999999),
        (v.parse_memory, "1.5Gi", 1610612736),
        (v.parse_cpu, "999999999999m", Decimal("999999999.999")),
    ],
)
def test_largest_quantities_are_exact(parse, text, expected):
    assert parse(text) == expected
