"""The organisation's bootstrap (``bootstrap/``, project broxiva-bootstrap, stack ``org``): what every environment
stack stands on and that no environment may own: the Pulumi state store, the secrets-provider keys, the public
DNS zone and the CI identities. Type tokens ``broxiva:bootstrap:<Name>``."""
