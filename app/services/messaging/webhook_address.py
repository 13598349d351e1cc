"""Which addresses a webhook may call: the one policy the sender applies and the linter warns of.

Every address a webhook's host resolves to must be public: private, loopback, link-local,
multicast, reserved and unspecified addresses are refused, unless the host or its network is
in ``PARCOURS_WEBHOOK_ALLOW`` (``worker/delivery/webhook.py`` checks this before each call).

The linter checks it when a scenario is saved, without a DNS lookup (a save must not wait on
the network): an address written as an IP, and ``localhost`` names, which are refused
whatever DNS says. A host name that resolves inside is only found by the sender.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.i18n import _

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[IpNetwork, ...]

    @classmethod
    def parse(cls, setting: str) -> AllowList:
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        for item in (part.strip() for part in setting.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IpAddress) -> bool:
        return host in self.hosts or any(address in network for network in self.networks)


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def refusal_without_lookup(url: str, allow: AllowList) -> str | None:
    """Why the sender will refuse to call ``url``, in the speaker's words, as far as can be
    told without resolving its host; None when nothing says so."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return None  # a malformed address is the block's own error
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        if host in allow.hosts:
            return None
        return _("%(host)s is this server itself") % {"host": host}
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if is_public(address) or allow.allows(host, address):
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    seen = mapped or address
    if seen.is_loopback or seen.is_unspecified:
        return _("%(host)s is this server itself") % {"host": host}
    if seen.is_link_local:
        return _("%(host)s is a link-local address, such as a cloud's metadata service") % {
            "host": host
        }
    return _("%(host)s is a private or reserved network address") % {"host": host}
