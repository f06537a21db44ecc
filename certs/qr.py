"""QR codes as inline SVG, for pages and answers that hand a person something to scan (a grant's code, the
link a wallet picks a credential up from)."""

from __future__ import annotations

import segno


def qr_svg(text: str, scale: int = 4) -> str:
    """``text`` as a QR code (error correction M or better), as an ``<svg>`` element with no XML prolog."""
    return str(segno.make(text, error="m", micro=False).svg_inline(scale=scale, title=None))
