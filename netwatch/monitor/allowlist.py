"""Which networks netwatch may send probes to (``NETWATCH_ALLOWED_NETS``, docs/configuration.md).

The runner consults this before every check; a target outside the list is
never contacted and its checks fail with reason ``denied``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

ENV_VAR = "NETWATCH_ALLOWED_NETS"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AllowList:
    """A set of networks; ``None`` networks means any address is allowed."""

    def __init__(self, networks: Iterable[Network] | None = None) -> None:
        self.networks: tuple[Network, ...] | None = (
            None if networks is None else tuple(networks)
        )
        self._cache: dict[str, bool] = {}

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """Parse a comma- or space-separated list of CIDRs; ValueError names the bad entry."""
        nets: list[Network] = []
        for item in text.replace(",", " ").split():
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"{ENV_VAR}: {item!r} is not a network ({exc})") from None
        if not nets:
            raise ValueError(f"{ENV_VAR} is set but lists no network")
        return cls(nets)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AllowList:
        text = env.get(ENV_VAR, "").strip()
        return cls.parse(text) if text else cls(None)

    def allows(self, address: str) -> bool:
        if self.networks is None:
            return True
        hit = self._cache.get(address)
        if hit is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                hit = False
            else:
                hit = any(ip in net for net in self.networks)
            self._cache[address] = hit
        return hit

    def __str__(self) -> str:
        if self.networks is None:
            return "any"
        return ", ".join(str(n) for n in self.networks)
