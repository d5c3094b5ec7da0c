#!/usr/bin/env python3
"""Test helper: a webhook receiver for the monitor's webhook sink.

fake_webhook.py ADDRESS PORT LINES_FILE READY_FILE [FAIL_FIRST [STATUS]]

Listens on ADDRESS:PORT (PORT 0: any free port) and writes the port it got into
READY_FILE once it listens, so tests never race the bind. Every POST is logged
to LINES_FILE.requests as one JSON object per line: {"path", "status",
"authorization", "content_type", "lines", "bytes"}. The first FAIL_FIRST POSTs
(default 0) are answered STATUS (default 503) and their lines are not kept;
every other POST is answered 204 and each line of its body is appended to
LINES_FILE, whole lines only, in the order received.
"""
import http.server
import json
import os
import socket
import sys
import threading

from quiet_http import QuietServer


def main():
    address, port, lines_file, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    fail_first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    fail_status = int(sys.argv[6]) if len(sys.argv) > 6 else 503
    lock = threading.Lock()
    state = {"posts": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) != length:
                return  # the sender went away mid-body: nothing was received
            lines = body.splitlines()
            with lock:
                state["posts"] += 1
                status = fail_status if state["posts"] <= fail_first else 204
                if status == 204 and lines:
                    with open(lines_file, "ab") as out:
                        out.write(b"".join(line + b"\n" for line in lines))
                with open(lines_file + ".requests", "a") as log:
                    log.write(json.dumps({
                        "path": self.path,
                        "status": status,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "lines": len(lines),
                        "bytes": length,
                    }) + "\n")
            self._reply(status)

        def do_GET(self):
            self._reply(405)

        def log_message(self, *args):
            pass

    Server = type("Server", (QuietServer,), {})
    Server.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = Server((address, port), Handler)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(ready + ".tmp", ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
