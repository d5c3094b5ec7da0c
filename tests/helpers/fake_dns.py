#!/usr/bin/env python3
"""Test helper: a fake DNS server (UDP and TCP) answering from a zone file.

fake_dns.py ADDRESS PORT ZONE_JSON READY_FILE

ZONE_JSON maps names to answers:
  {"kv.vault.azure.net": {"A": ["127.77.0.10"]},
   "myreg.azurecr.io": {"CNAME": "myreg.privatelink.azurecr.io"},
   "myreg.privatelink.azurecr.io": {"A": ["127.77.1.5"]},
   "loop.example": {"raw": "hostile"}}
CNAMEs are followed within the zone and every record of the chain is answered,
as a recursive resolver does, with compressed names. "raw": "hostile" answers
with a compression pointer loop; "raw": "short" with a message cut short.
"""
import json
import socket
import socketserver
import struct
import sys
import threading


def encode_name(name, offsets, message_len):
    out = b""
    labels = name.rstrip(".").split(".")
    for i in range(len(labels)):
        suffix = ".".join(labels[i:]).lower()
        if suffix in offsets:
            return out + struct.pack(">H", 0xC000 | offsets[suffix])
        offsets[suffix] = message_len + len(out)
        label = labels[i].encode()
        out += bytes([len(label)]) + label
    return out + b"\0"


def answer(zone, query):
    qid, flags, qdcount = struct.unpack(">HHH", query[:6])
    pos, labels = 12, []
    while query[pos]:
        labels.append(query[pos + 1:pos + 1 + query[pos]].decode())
        pos += 1 + query[pos]
    qname = ".".join(labels).lower()
    qtype = struct.unpack(">H", query[pos + 1:pos + 3])[0]
    question = query[12:pos + 5]
    entry = zone.get(qname, {})
    if entry.get("raw") == "hostile":
        # An answer whose name points at itself: a compression loop.
        header = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
        loop_at = 12 + len(question)
        return header + question + struct.pack(">H", 0xC000 | loop_at) + b"\x00\x01\x00\x01"
    if entry.get("raw") == "short":
        header = struct.pack(">HHHHHH", qid, 0x8180, 1, 3, 0, 0)
        return header + question + b"\xc0\x0c\x00\x01"
    offsets = {qname: 12}
    body, count, name, hops = b"", 0, qname, 0
    message_len = 12 + len(question)
    while name in zone and hops < 8:
        record = zone[name]
        if "CNAME" in record:
            owner = encode_name(name, offsets, message_len + len(body))
            target = encode_name(record["CNAME"], offsets, message_len + len(body) + len(owner) + 10)
            body += owner + struct.pack(">HHIH", 5, 1, 300, len(target)) + target
            count += 1
            name, hops = record["CNAME"].lower(), hops + 1
            continue
        for addr in record.get("A", []) if qtype == 1 else []:
            body += encode_name(name, offsets, message_len + len(body))
            body += struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
            count += 1
        for addr in record.get("AAAA", []) if qtype == 28 else []:
            body += encode_name(name, offsets, message_len + len(body))
            body += struct.pack(">HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, addr)
            count += 1
        break
    rcode = 0 if count or qname in zone else 3
    header = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, count, 0, 0)
    return header + question + body


def main():
    address, port, zone_file, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(zone_file) as f:
        zone = {k.lower(): v for k, v in json.load(f).items()}

    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            sock.sendto(answer(zone, data), self.client_address)

    class Tcp(socketserver.BaseRequestHandler):
        def handle(self):
            length = struct.unpack(">H", self.request.recv(2))[0]
            data = b""
            while len(data) < length:
                data += self.request.recv(length - len(data))
            reply = answer(zone, data)
            self.request.sendall(struct.pack(">H", len(reply)) + reply)

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    udp = socketserver.ThreadingUDPServer((address, port), Udp)
    tcp = socketserver.ThreadingTCPServer((address, port), Tcp)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    with open(ready, "w") as f:
        f.write("ready\n")
    udp.serve_forever()


if __name__ == "__main__":
    main()
