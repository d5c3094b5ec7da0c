#!/usr/bin/env python3
"""Test helper: an attacker's client that has read accessmon's source.

evade.py MODE ARGS...

  pipeline HOST PATH PAD       a harmless request padded with PAD bytes of header,
                               and the request for PATH, in one write
  keepalive HOST PATH PAD      the padded request, its answer read, then PATH on
                               the same connection
  bodypad HOST PATH SIZE       a POST with SIZE bytes of body, its answer read, then
                               PATH on the same connection
  split HOST PATH              the request for PATH a byte a segment
  longline HOST PATH PAD       PATH with PAD bytes of a dummy parameter in front
  absolute HOST PATH           the request line in absolute form (http://HOST/PATH)
  waiting HOST PATH READY GO   connects, touches READY, waits for the file GO,
                               then asks for PATH (a connection older than the
                               monitor)
  udp HOST PORT                one datagram
  rawsyn HOST PORT SOURCE      a TCP SYN from a raw socket, from address SOURCE
  icmp HOST                    an ICMP echo request from a raw socket
  packet                       makes an AF_PACKET socket, sends nothing
  hello-split NAME ADDRESS     a TLS ClientHello for server name NAME to ADDRESS:443,
                               written in two parts
  no-sni NAME                  resolves NAME and speaks TLS to its address on 443
                               without a server name

HTTP goes to HOST port 80 with the Metadata header. Prints the answers' status
lines; exits 0 when every request it made was answered (or sent, for the modes
that expect no answer).
"""
import os
import socket
import ssl
import struct
import sys
import time


def request(host, path, extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nMetadata: true\r\n{extra}"
            "\r\n").encode()


def read_answers(sock, count):
    """Reads `count` HTTP answers with Content-Length bodies; returns their status lines."""
    data, statuses = b"", []
    sock.settimeout(5)
    while len(statuses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            continue
        head = data[:head_end].decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(data) < head_end + 4 + length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        statuses.append(head.split("\r\n")[0])
        data = data[head_end + 4 + length:]
    for status in statuses:
        print(status)
    return len(statuses) == count


def connect(host):
    sock = socket.create_connection((host, 80), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def padding(size):
    return f"X-Pad: {'a' * int(size)}\r\n"


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "pipeline":
        host, path, pad = args
        sock = connect(host)
        sock.sendall(request(host, "/metadata/instance?api-version=2021-02-01", padding(pad))
                     + request(host, path))
        return read_answers(sock, 2)
    if mode == "keepalive":
        host, path, pad = args
        sock = connect(host)
        sock.sendall(request(host, "/metadata/instance?api-version=2021-02-01", padding(pad)))
        if not read_answers(sock, 1):
            return False
        sock.sendall(request(host, path))
        return read_answers(sock, 1)
    if mode == "bodypad":
        host, path, size = args
        sock = connect(host)
        body = b"b" * int(size)
        sock.sendall(f"POST /metadata/scheduledevents?api-version=2020-07-01 HTTP/1.1\r\n"
                     f"Host: {host}\r\nMetadata: true\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        if not read_answers(sock, 1):
            return False
        sock.sendall(request(host, path))
        return read_answers(sock, 1)
    if mode == "split":
        host, path = args
        sock = connect(host)
        for byte in request(host, path):
            sock.send(bytes([byte]))
            time.sleep(0.002)
        return read_answers(sock, 1)
    if mode == "longline":
        host, path, pad = args
        sep = "&" if "?" in path else "?"
        sock = connect(host)
        sock.sendall(request(host, f"{path}{sep}x={'b' * int(pad)}"))
        return read_answers(sock, 1)
    if mode == "absolute":
        host, path = args
        sock = connect(host)
        sock.sendall(request(host, f"http://{host}{path}"))
        return read_answers(sock, 1)
    if mode == "waiting":
        host, path, ready, go = args
        sock = connect(host)
        open(ready, "w").close()
        deadline = time.time() + 60
        while not os.path.exists(go):
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        sock.sendall(request(host, path))
        return read_answers(sock, 1)
    if mode == "udp":
        host, port = args
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(request(host, "/metadata/identity/oauth2/token"), (host, int(port)))
        return True
    if mode == "rawsyn":
        host, port, src = args
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        sport = 40000 + os.getpid() % 20000
        header = struct.pack("!HHIIBBHHH", sport, int(port), 1, 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = (socket.inet_aton(src) + socket.inet_aton(host)
                  + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(header)))
        header = header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]
        sock.sendto(header, (host, 0))
        return True
    if mode == "icmp":
        (host,) = args
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        body = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xFFFF, 1) + b"accessmon"
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        sock.sendto(body, (host, 0))
        return True
    if mode == "packet":
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        sock.close()
        return True
    if mode == "hello-split":
        name, address = args
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname=name)
        sock = socket.create_connection((address, 443), timeout=5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        sock.sendall(hello[:40])
        time.sleep(0.2)
        sock.sendall(hello[40:])
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                data = sock.recv(65536)
                if not data:
                    return False
                incoming.write(data)
        pending = outgoing.read()
        if pending:
            sock.sendall(pending)
        print("handshake done")
        return True
    if mode == "no-sni":
        (name,) = args
        address = socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection((address, 443), timeout=5) as raw:
            with context.wrap_socket(raw) as tls:
                tls.sendall(b"GET /secrets/db?api-version=7.4 HTTP/1.1\r\nHost: x\r\n\r\n")
                print(tls.recv(100).split(b"\r\n")[0].decode())
        return True
    print(f"evade.py: unknown mode {mode}", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
