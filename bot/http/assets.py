"""Static files a package serves (the chat page's, the admin console's), read once from the installed package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
"""Content type by file suffix."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One file, read once from the package."""

    body: bytes
    content_type: str


def load_assets(package: str, names: Iterable[str]) -> dict[str, Asset]:
    """Return the named files of a package's static/ folder, by name, with their content types."""
    folder = files(package) / "static"
    return {name: Asset((folder / name).read_bytes(), CONTENT_TYPES[name[name.rfind(".") :]]) for name in names}
