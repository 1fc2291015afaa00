"""Security headers of the biller's page: a Content-Security-Policy that allows the page's own
files (``/static``) and any inline script or style it holds (by their SHA-256), and no framing.

The hashes are taken from the page as served, so the policy follows edits to the page.
"""

from __future__ import annotations

import base64
import hashlib
import re

_BLOCK = {kind: re.compile(rf"<{kind}>(.*?)</{kind}>", re.DOTALL) for kind in ("script", "style")}


def _hashes(html: str, kind: str) -> str:
    found = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in _BLOCK[kind].findall(html)
    ]
    return " ".join(["'self'", *found])


def page_headers(html: str) -> dict[str, str]:
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hashes(html, 'script')}",
            f"style-src {_hashes(html, 'style')}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
