"""Suite-wide settings: probes may reach loopback only (SPEC §12)."""

from __future__ import annotations

import os

# Set before any test imports netwatch code that reads it.
os.environ["NETWATCH_ALLOWED_NETS"] = "127.0.0.0/8"
