"""A researcher's browser still gets answers while 200 other connections sit open and silent
(slow headers, a stalled proxy, a port scanner), and a malformed Host is a plain 400.

Everything runs against the real waitress server on 127.0.0.1, bounded to a few seconds.
"""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from webapp import SECURITY_HEADERS, create_app
from webapp.serve import make_server, server_url


@pytest.fixture
def serving(tmp_path):
    def start(**limits):
        app = create_app({"KB_HOME": str(tmp_path / "kb")})
        server = make_server(app, "127.0.0.1", 0, **limits)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append(server)
        return server_url(server)

    started: list = []
    yield start
    for server in started:
        server.close()


def probe(url: str, timeout: float = 5.0) -> int:
    with urllib.request.urlopen(url + "/api/openapi.json", timeout=timeout) as response:
        response.read()
        return response.status


def idle_sockets(url: str, n: int) -> list[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    socks = []
    for i in range(n):
        s = socket.create_connection((host, int(port)), timeout=5)
        if i % 2:  # half send the start of a request and stop mid-headers; half send nothing
            s.sendall(b"GET /about HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    return socks


def test_two_hundred_idle_sockets_do_not_lock_out_a_reader(serving):
    url = serving()
    socks = idle_sockets(url, 200)
    try:
        answered, slowest = 0, 0.0
        for _ in range(10):
            began = time.monotonic()
            answered += probe(url) == 200
            slowest = max(slowest, time.monotonic() - began)
        assert answered == 10
        assert slowest < 5.0
    finally:
        for s in socks:
            s.close()


def test_idle_sockets_are_closed_by_the_server(serving):
    url = serving(channel_timeout=2, cleanup_interval=1)  # the production values are 15 s and 5 s
    socks = idle_sockets(url, 20)
    try:
        time.sleep(4.5)
        closed = 0
        for s in socks:
            s.settimeout(2)
            try:
                closed += s.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except socket.timeout:  # still open: counted as not closed
                pass
        assert closed == 20
        assert probe(url) == 200
    finally:
        for s in socks:
            s.close()


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "x" * 300])
@pytest.mark.parametrize("path", ["/", "/about", "/api/stats", "/no-such-page"])
def test_a_malformed_host_is_a_400_with_the_usual_headers(host, path):
    client = create_app({"KB_HOME": "/nonexistent-refrain-kb"}).test_client()
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
