#!/usr/bin/env python3
"""Test helper: a paced mixed load from one pod, for the soak test.

soak_load.py SECONDS RATE TOKEN DNS_NAME COUNTS_FILE

Makes RATE operations a second for SECONDS, paced every 10 ms (behind, it
catches up; never ahead), in a fixed mix out of every 20:
  10 TCP connects to 127.0.0.1, ports 20000-20099 in turn (nobody listens: each
     is refused at once; 100 destinations, so the kernel counts most repeats)
   1 IMDS token request: GET to 169.254.169.254:80 with Metadata: true, answered
     by the fake IMDS in the pod's network namespace
   3 DNS queries for DNS_NAME, UDP to 127.0.0.53:53, each from a socket of its
     own as a stub resolver does, answered by the fake DNS server
   6 opens of TOKEN
At the end writes what it did, as JSON, to COUNTS_FILE: the counts the monitor's
records must add up to, and the failures (none expected).
"""
import json
import os
import socket
import struct
import sys
import time

MIX = ["connect"] * 10 + ["imds"] + ["dns"] * 3 + ["open"] * 6
# Interleaved, so every 10 ms slice carries a bit of each.
ORDER = ["connect", "open", "connect", "dns", "connect", "open", "connect", "imds",
         "connect", "open", "connect", "dns", "connect", "open", "connect", "open",
         "connect", "dns", "connect", "open"]
assert sorted(ORDER) == sorted(MIX)

IMDS_REQUEST = (b"GET /metadata/identity/oauth2/token?api-version=2018-02-01"
                b"&resource=https%3A%2F%2Fvault.azure.net HTTP/1.1\r\n"
                b"Host: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n")


def dns_query(name, qid):
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + b"\0\0\1\0\1"


def main():
    seconds, rate = float(sys.argv[1]), int(sys.argv[2])
    token, name, counts_file = sys.argv[3], sys.argv[4], sys.argv[5]
    counts = {"connect": 0, "imds": 0, "dns": 0, "open": 0, "failed": 0}
    failures = []
    start = time.monotonic()
    done = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate)
        while done < due:
            what = ORDER[done % len(ORDER)]
            try:
                if what == "connect":
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    s.connect_ex(("127.0.0.1", 20000 + counts["connect"] % 100))
                    s.close()
                elif what == "imds":
                    with socket.create_connection(("169.254.169.254", 80), timeout=5) as s:
                        s.sendall(IMDS_REQUEST)
                        answer = b""
                        while True:
                            chunk = s.recv(4096)
                            if not chunk:
                                break
                            answer += chunk
                        if not answer.startswith(b"HTTP/1.0 200") and not answer.startswith(b"HTTP/1.1 200"):
                            raise OSError("IMDS answered %r" % answer[:40])
                elif what == "dns":
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        s.settimeout(5)
                        qid = done & 0xFFFF
                        s.sendto(dns_query(name, qid), ("127.0.0.53", 53))
                        answer = s.recv(512)
                        if struct.unpack(">H", answer[:2])[0] != qid:
                            raise OSError("DNS answer for another query")
                else:
                    os.close(os.open(token, os.O_RDONLY))
                counts[what] += 1
            except OSError as e:
                counts["failed"] += 1
                if len(failures) < 5:
                    failures.append("%s: %s" % (what, e))
            done += 1
        time.sleep(0.01)
    counts["seconds"] = time.monotonic() - start
    counts["failures"] = failures
    with open(counts_file + ".tmp", "w") as f:
        json.dump(counts, f)
    os.rename(counts_file + ".tmp", counts_file)


if __name__ == "__main__":
    main()
