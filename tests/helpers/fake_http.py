#!/usr/bin/env python3
"""Test helper: a tiny HTTP server standing in for IMDS or any endpoint.

fake_http.py ADDRESS PORT READY_FILE [CERT KEY]
Answers every GET or POST with 200 and a small JSON body, and touches READY_FILE
once it listens, so tests never race the bind. With CERT and KEY it speaks HTTPS.
With FAKE_HTTP_KEEPALIVE=1 in its environment it speaks HTTP/1.1 and keeps
connections open between requests, as IMDS does.
"""
import http.server
import os
import socket
import sys

from quiet_http import QuietServer


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        body = b'{"ok":true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 20))
        self._answer()

    def log_message(self, *args):
        pass


class Server(QuietServer):
    pass


def main():
    address, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if os.environ.get("FAKE_HTTP_KEEPALIVE") == "1":
        Handler.protocol_version = "HTTP/1.1"
    Server.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = Server((address, port), Handler)
    if len(sys.argv) == 6:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(ready, "w") as f:
        f.write("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
