"""Real servers on loopback for the notifier tests (`deploy` comes from tests/conftest.py)."""

from __future__ import annotations

# --- real servers on loopback -------------------------------------------------------------
import base64
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server = self.server
        self._send("220 test ESMTP")
        envelope: dict = {"rcpt": []}
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            cmd = line[:4].upper()
            if cmd == "EHLO":
                self.wfile.write(b"250-test\r\n250-AUTH PLAIN\r\n250 OK\r\n")
            elif cmd == "HELO":
                self._send("250 test")
            elif cmd == "AUTH":
                parts = line.split()
                decoded = base64.b64decode(parts[2]).split(b"\0") if len(parts) > 2 else []
                server.logins.append([p.decode() for p in decoded[1:]])
                self._send("235 ok")
            elif cmd == "MAIL":
                envelope = {"from": line[10:].strip("<>"), "rcpt": []}
                self._send("250 ok")
            elif cmd == "RCPT":
                envelope["rcpt"].append(line[8:].strip("<>"))
                self._send("250 ok")
            elif cmd == "DATA":
                self._send("354 go ahead")
                body = []
                while True:
                    data = self.rfile.readline().decode()
                    if data.rstrip("\r\n") == ".":
                        break
                    body.append(data)
                envelope["data"] = "".join(body)
                server.messages.append(envelope)
                self._send("250 queued")
            elif cmd == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("250 ok")


class _SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []
        self.logins: list[list[str]] = []


class _HTTPHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        status, reply = self.server.reply
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep test output clean
        pass


def _serve(server):
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    return server


@pytest.fixture
def smtp_server():
    server = _serve(_SMTPServer())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HTTPHandler)
    server.requests = []
    server.reply = (200, {"ok": True, "result": {"message_id": 1}})
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound then closed)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
