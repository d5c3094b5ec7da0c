#!/usr/bin/env python3
"""Test helper: a fake kubelet /pods endpoint over HTTPS.

fake_kubelet.py ADDRESS PORT CERT KEY TOKEN_FILE PODS_FILE READY_FILE

GET /pods answers PODS_FILE's bytes as they are (a test may make them invalid)
when the request carries "Authorization: Bearer <contents of TOKEN_FILE>", and
401 otherwise. Every request is appended to READY_FILE.requests, so tests can
count polls.
"""
import http.server
import ssl
import sys

from quiet_http import QuietServer


def main():
    address, port, cert, key, token_file, pods_file, ready = sys.argv[1:8]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(token_file) as f:
                token = f.read().strip()
            with open(ready + ".requests", "a") as log:
                log.write(self.path + "\n")
            if self.headers.get("Authorization") != "Bearer " + token:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path != "/pods":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with open(pods_file, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = QuietServer((address, int(port)), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(ready, "w") as f:
        f.write("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
