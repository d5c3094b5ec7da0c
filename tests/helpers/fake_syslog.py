#!/usr/bin/env python3
"""Test helper: a syslog receiver on UDP, TCP and a unix datagram socket.

fake_syslog.py OUT_DIR READY_FILE [--udp ADDRESS:PORT] [--tcp ADDRESS:PORT] [--unix PATH]

Each message received is appended as one line to OUT_DIR/udp.log, tcp.log or
unix.log. A PORT of 0 takes any free port; once every socket listens, READY_FILE
holds one line per transport, "udp PORT", "tcp PORT", "unix PATH", so tests
never race the bind.

TCP is parsed as RFC 6587 octet counting only ("LEN SP MSG", back to back): a
frame that does not start with digits and a space is written as a line starting
"!! bad frame: " (so a test sees it) and the connection is closed. A message
holding a newline is written with it escaped as "\\n", never as two lines.
"""
import os
import socket
import sys
import threading

lock = threading.Lock()


def keep(out_dir, transport, message):
    text = message.replace(b"\n", b"\\n")
    with lock:
        with open(os.path.join(out_dir, transport + ".log"), "ab") as out:
            out.write(text + b"\n")


def serve_datagrams(sock, out_dir, transport):
    while True:
        data = sock.recv(1 << 17)
        keep(out_dir, transport, data)


def serve_stream(conn, out_dir):
    buf = b""
    with conn:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                if buf:
                    keep(out_dir, "tcp", b"!! bad frame: connection closed mid-frame: " + buf[:80])
                return
            buf += data
            while buf:
                space = buf.find(b" ")
                if space < 0:
                    if len(buf) > 10 or not buf.isdigit():
                        keep(out_dir, "tcp", b"!! bad frame: " + buf[:80])
                        return
                    break
                length = buf[:space]
                if not length.isdigit() or length.startswith(b"0") or space > 10:
                    keep(out_dir, "tcp", b"!! bad frame: " + buf[:80])
                    return
                end = space + 1 + int(length)
                if len(buf) < end:
                    break
                keep(out_dir, "tcp", buf[space + 1:end])
                buf = buf[end:]


def accept_loop(server, out_dir):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_stream, args=(conn, out_dir), daemon=True).start()


def split(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    out_dir, ready = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    lines = []
    threads = []
    while args:
        option, value = args[0], args[1]
        args = args[2:]
        if option == "--udp":
            host, port = split(value)
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                 socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind((host, port))
            lines.append("udp %d" % sock.getsockname()[1])
            threads.append(threading.Thread(target=serve_datagrams, args=(sock, out_dir, "udp")))
        elif option == "--tcp":
            host, port = split(value)
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                 socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(16)
            lines.append("tcp %d" % sock.getsockname()[1])
            threads.append(threading.Thread(target=accept_loop, args=(sock, out_dir)))
        elif option == "--unix":
            if os.path.exists(value):
                os.unlink(value)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind(value)
            os.chmod(value, 0o666)
            lines.append("unix %s" % value)
            threads.append(threading.Thread(target=serve_datagrams, args=(sock, out_dir, "unix")))
        else:
            sys.exit("fake_syslog.py: unknown option " + option)
    for thread in threads:
        thread.daemon = True
        thread.start()
    with open(ready + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(ready + ".tmp", ready)
    threading.Event().wait()


if __name__ == "__main__":
    main()
