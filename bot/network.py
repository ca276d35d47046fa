"""Hosts and addresses: which are this machine (where auth may be off), which are IPs."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1), never for 0.0.0.0 or ''."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_ip_address(text: str) -> bool:
    """Whether `text` is an IPv4 or IPv6 address: a URL's bracketed host must be one."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
