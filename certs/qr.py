"""QR codes: as inline SVG, for pages and answers that hand a person something to scan (a grant's code, the
link a wallet picks a credential up from), and as rectangles for a printed licence's verification code."""

from __future__ import annotations

import segno


def qr_svg(text: str, scale: int = 4) -> str:
    """``text`` as a QR code (error correction M or better), as an ``<svg>`` element with no XML prolog."""
    return str(segno.make(text, error="m", micro=False).svg_inline(scale=scale, title=None))


def qr_rectangles(text: str, x: float, y: float, size: float) -> list[tuple[float, float, float, float]]:
    """``text`` as a QR code (error correction M or better) ``size`` wide at (``x``, ``y``): its dark modules,
    a run of them per rectangle (x, y, width, height), y growing downwards."""
    modules = list(segno.make_qr(text, error="m").matrix_iter(scale=1, border=0))
    module = size / len(modules)
    rectangles = []
    for row_index, row in enumerate(modules):
        run_start = None
        for column, dark in enumerate([*row, False]):
            if dark and run_start is None:
                run_start = column
            elif not dark and run_start is not None:
                width = (column - run_start) * module
                rectangles.append((x + run_start * module, y + row_index * module, width, module))
                run_start = None
    return rectangles
