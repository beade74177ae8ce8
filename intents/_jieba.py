"""Import jieba without its 100 ms detour through pkg_resources.

jieba 0.42 imports pkg_resources only to open its bundled files and falls back to plain file paths when that
import fails. pkg_resources alone costs about a tenth of a second (and a deprecation warning on new setuptools),
which is a fifth of the `ask` command's start-up budget, so the import is made to fail for jieba alone.
"""

from __future__ import annotations

import logging
import sys

if "jieba" not in sys.modules:
    _had = "pkg_resources" in sys.modules
    _saved = sys.modules.get("pkg_resources")
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` raise ImportError
    try:
        import jieba
    finally:
        if _had:
            sys.modules["pkg_resources"] = _saved  # type: ignore[assignment]
        else:
            del sys.modules["pkg_resources"]
else:  # pragma: no cover - imported elsewhere first
    import jieba

jieba.setLogLevel(logging.WARNING)

__all__ = ["jieba"]
