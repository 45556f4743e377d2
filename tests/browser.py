"""Headless Chromium for the report tests: the DOM after rendering, every console message, a screenshot.

Debian's `chromium` (installed by `make test` when missing). Our pages run no script, so any
console message at all (a script error, a refused fetch, a CSP violation) is a failure.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

_CONSOLE = re.compile(r":CONSOLE(?::\d+|\(\d+\))\] (.*)$", re.MULTILINE)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError("headless Chromium is needed for the report tests: `make test` installs Debian's "
                             "chromium (apt-get install chromium)")
    return found


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]
    png: bytes


def _run(args: list[str], profile: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def render(page: Path, *, width: int = 1280, height: int = 2400) -> Rendered:
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="ops-db-chromium-") as profile:
        dumped = _run(["--dump-dom", url], profile)
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        shot = Path(profile) / "shot.png"
        taken = _run([f"--window-size={width},{height}", f"--screenshot={shot}", url], profile)
        assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
        console = _CONSOLE.findall(dumped.stderr) + _CONSOLE.findall(taken.stderr)
        return Rendered(dumped.stdout, console, shot.read_bytes())


def png_colours(data: bytes, *, limit: int = 64, rows: int = 600) -> int:
    """How many distinct colours the top ``rows`` rows of a PNG hold (8-bit RGB or RGBA, not interlaced),
    counted up to ``limit``: a blank page has one."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    seen: set[bytes] = set()
    for row in range(min(height, rows)):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        if row % 8 == 0:  # every eighth row is plenty to tell a page from a blank one
            for x in range(0, stride, channels * 4):
                seen.add(bytes(line[x:x + 3]))
                if len(seen) >= limit:
                    return len(seen)
        previous = line
    return len(seen)
