"""The weights file: verification, local registration, and a resumable, verified download (from a local server)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from ttur.cli import main
from ttur.errors import UserError
from ttur.metrics.weights import INCEPTION_SHA256, download_weights, install_local, resolve_weights_path

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB stand-in for the weights file
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /w.pth, honouring `Range: bytes=N-`; logs each request's Range header."""

    requests: list[str | None] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        if self.path != "/w.pth":
            self.send_error(404)
            return
        header = self.headers.get("Range")
        type(self).requests.append(header)
        start = int(header.split("=")[1].rstrip("-")) if header else 0
        body = PAYLOAD[start:]
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_resumes_a_partial_file_and_verifies(server, tmp_path):
    out = tmp_path / "weights" / "w.pth"
    out.parent.mkdir()
    (out.parent / "w.pth.partial").write_bytes(PAYLOAD[:300_000])  # an interrupted earlier download
    digest = download_weights(out, [f"{server}/missing.pth", f"{server}/w.pth"], expected_sha256=PAYLOAD_SHA256)
    assert digest == PAYLOAD_SHA256 and out.read_bytes() == PAYLOAD
    assert _RangeHandler.requests == ["bytes=300000-"]  # only the missing tail was fetched
    assert not (out.parent / "w.pth.partial").exists()


class _DroppingHandler(http.server.BaseHTTPRequestHandler):
    """Announces all of PAYLOAD but closes the connection after 400,000 bytes (a dropped transfer)."""

    def do_GET(self):  # noqa: N802 - the http.server API
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD[:400_000])
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_dropped_connection_is_a_user_error_and_the_partial_file_resumes(server, tmp_path):
    dropping = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DroppingHandler)
    threading.Thread(target=dropping.serve_forever, daemon=True).start()
    out = tmp_path / "w.pth"
    try:
        # http.client ends the short body with an empty read, not an error: the partial must be kept, not hashed
        with pytest.raises(UserError, match="could not download"):
            download_weights(out, [f"http://127.0.0.1:{dropping.server_address[1]}/w.pth"], PAYLOAD_SHA256)
    finally:
        dropping.shutdown()
        dropping.server_close()
    assert (tmp_path / "w.pth.partial").stat().st_size == 400_000 and not out.exists()
    assert download_weights(out, [f"{server}/w.pth"], PAYLOAD_SHA256) == PAYLOAD_SHA256
    assert _RangeHandler.requests == ["bytes=400000-"] and out.read_bytes() == PAYLOAD


def test_download_with_wrong_checksum_leaves_nothing(server, tmp_path):
    out = tmp_path / "w.pth"
    with pytest.raises(UserError, match=f"sha256 {PAYLOAD_SHA256} != {INCEPTION_SHA256}"):
        download_weights(out, [f"{server}/w.pth"])
    assert list(tmp_path.iterdir()) == []


def test_cli_weights_download_is_checked_against_the_published_hash(server, tmp_path, capsys):
    code = main(["weights", "--out", str(tmp_path / "w.pth"), "--url", f"{server}/w.pth"])
    assert code == 2 and "--local PATH" in capsys.readouterr().err
    assert not (tmp_path / "w.pth").exists()


def test_local_copy_is_verified_then_linked(tmp_path, capsys):
    source = tmp_path / "mine.pth"
    source.write_bytes(PAYLOAD)
    out = tmp_path / "resources" / "w.pth"
    assert install_local(source, out, expected_sha256=PAYLOAD_SHA256) == PAYLOAD_SHA256
    assert out.read_bytes() == PAYLOAD
    code = main(["weights", "--out", str(tmp_path / "other.pth"), "--local", str(source)])
    err = capsys.readouterr().err
    assert code == 2 and f"expected {INCEPTION_SHA256}" in err and not (tmp_path / "other.pth").exists()


def test_weights_path_comes_from_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TTUR_INCEPTION_WEIGHTS", str(tmp_path / "env.pth"))
    assert resolve_weights_path(tmp_path / "arg.pth") == tmp_path / "arg.pth"
    assert resolve_weights_path(None) == tmp_path / "env.pth"
    monkeypatch.delenv("TTUR_INCEPTION_WEIGHTS")
    with pytest.raises(UserError, match="ttur weights --out FILE"):
        resolve_weights_path(None)
