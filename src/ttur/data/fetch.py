"""Resumable transfer of one URL (http, https or file) into a `.part` file.

An existing `.part` is continued: over HTTP with a `Range: bytes=N-` request (a server that ignores it answers 200 and
the transfer starts over), for file:// by seeking. A transfer that ends short of the announced length raises
`TransferError`, leaving the `.part` for the next attempt.
"""

from __future__ import annotations

import http.client
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

USER_AGENT = "ttur-download/0.1 (+https://github.com/bioinf-jku/TTUR reproduction)"
CHUNK = 1 << 20
PROGRESS_EVERY = 1 << 30  # print a line per GiB so a 46 GB transfer shows it is alive


class TransferError(Exception):
    """A transfer that failed or ended early; the `.part` file keeps what arrived. `permanent`: retrying is futile."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def fetch(url: str, part: Path, timeout_s: float = 60.0) -> None:
    """Append the rest of `url` to `part` (starting at its current size) until the resource is complete."""
    if urllib.parse.urlparse(url).scheme == "file":
        _fetch_file(url, part)
    else:
        _fetch_http(url, part, timeout_s)


def _fetch_file(url: str, part: Path) -> None:
    source = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    if not source.is_file():
        raise TransferError(f"{source} does not exist", permanent=True)
    have = part.stat().st_size if part.exists() else 0
    if have > source.stat().st_size:  # not a prefix of this file: start over
        have = 0
    with open(source, "rb") as src, open(part, "r+b" if have else "wb") as dst:
        src.seek(have)
        dst.seek(have)
        dst.truncate()
        shutil.copyfileobj(src, dst, CHUNK)


def _fetch_http(url: str, part: Path, timeout_s: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout_s)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # nothing left to send: the .part is already whole; the checksum decides
            return
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)  # e.g. 404: try the next mirror
        raise TransferError(f"HTTP {error.code} {error.reason}", permanent=permanent) from error
    except (OSError, http.client.HTTPException) as error:
        raise TransferError(str(getattr(error, "reason", error))) from error
    with response:
        if "text/html" in response.headers.get("Content-Type", "") and not url.endswith((".html", ".htm")):
            raise TransferError("the server answered with an HTML page instead of the file")
        start = have if response.status == 206 else 0
        if response.status == 206:
            match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                raise TransferError(f"the server resumed at the wrong offset ({response.headers.get('Content-Range')})")
        length = response.headers.get("Content-Length")
        expected_end = start + int(length) if length is not None else None
        with open(part, "r+b" if start else "wb") as dst:
            dst.seek(start)
            dst.truncate()
            try:
                while chunk := response.read(CHUNK):
                    dst.write(chunk)
                    if dst.tell() // PROGRESS_EVERY != (dst.tell() - len(chunk)) // PROGRESS_EVERY:
                        total = f" of {expected_end >> 20} MiB" if expected_end else ""
                        print(f"{part.name}: {dst.tell() >> 20} MiB{total}", flush=True)
            except (OSError, http.client.HTTPException) as error:
                raise TransferError(f"connection lost after {dst.tell()} bytes ({error})") from error
            end = dst.tell()
    if expected_end is not None and end < expected_end:
        raise TransferError(f"connection closed after {end} of {expected_end} bytes")
