"""Security headers of every answer: a strict Content-Security-Policy and friends.

The pages run no scripts at all. Their styles are the inline ``<style>`` blocks and ``style``
attributes of the templates, allowed by their SHA-256 (computed from the templates at start-up,
so editing a style never breaks the policy); nothing else may load or frame the pages.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "content_security_policy", "inline_styles"]

TEMPLATES = Path(__file__).with_name("templates")
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
# Swagger UI and ReDoc load their scripts from a CDN: these pages get no CSP of ours.
_DOCS = ("/docs", "/redoc")


def inline_styles(folder: Path = TEMPLATES) -> set[str]:
    """Every inline style of the templates: the bodies of ``<style>`` and ``style="..."``."""
    found: set[str] = set()
    for template in sorted(folder.rglob("*.html")):
        source = template.read_text(encoding="utf-8")
        found.update(_STYLE_BLOCK.findall(source))
        found.update(_STYLE_ATTRIBUTE.findall(source))
    return found


def _hash(style: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"


def content_security_policy(styles: Iterable[str]) -> str:
    """The pages' policy: no scripts, no plugins, no framing; only the templates' own styles."""
    hashes = " ".join(sorted({_hash(style) for style in styles}))
    return (
        "default-src 'none'; "
        f"style-src 'self' 'unsafe-hashes' {hashes}; "
        "img-src 'self' data:; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer.

    ``Cache-Control: no-store`` is set on every answer that does not set its own: the pages and
    the API show minors' personal data, which must not stay in shared caches or the back button.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.policy = content_security_policy(inline_styles())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(_DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not docs:
                    extra.append((b"content-security-policy", self.policy.encode()))
                if b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
