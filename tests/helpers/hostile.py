#!/usr/bin/env python3
"""Test helper: hostile values a pod controls, the workloads that inject them, and
the checks of what the monitor wrote (tests/e2e/test_hostile.sh).

hostile.py podlist PODS_JSON UID        the pod's PodList entry made hostile
hostile.py bundle FILE UID CID          a containerd config.json, hostile names
hostile.py layout WORK NODE_ROOT        hostile directory, symlink and program names
hostile.py spawn WORK                   runs `open` as the hostile program, hostile args
hostile.py open PATH PATH [ARG...]      renames its thread, then opens both paths
hostile.py dns-server ADDR PORT READY   answers every query with hostile names
hostile.py dns-client                   asks for a hostile name, connects to it
hostile.py http-client                  hostile requests to IMDS
hostile.py tls-client ADDR PORT         a ClientHello with a hostile server name
hostile.py check-json FILE              every line strict JSON with nothing raw
hostile.py check-text FILE              every line harmless to a terminal
hostile.py check-inventory FILE UID     accessmon inventory's document
hostile.py expect OUT TEXT WORK UID BUNDLE_UID   the injected values, as written

The checks print one line per problem and exit 1 when there is any.
"""
import ctypes
import json
import os
import socket
import struct
import sys

ESC_CSI = b"\x1b[31m"
OSC_TITLE = b"\x1b]0;pwned\x07"
C1_CSI = "\u009b".encode()  # U+009B in UTF-8: 0xc2 0x9b
RAW_CSI = b"\x9b"
RLO = "\u202e".encode()  # right-to-left override
LSEP = "\u2028".encode()

# Valid Unicode only where JSON carries it (PodList, bundles); bytes elsewhere.
POD_NAME = "web\x1b[2J\x1b]0;owned\x07\n\"q\"\\\u009b\u202etxt.exe\u2028\x7f\t"
POD_NAMESPACE = "ns\x1b[31m\r\u0085\u009d8;;x\u009c"
CONTAINER_NAME = "app\x1b[?1049h\u2066\x00tail"
SERVICE_ACCOUNT = "sa\x1bP+q\x1b\\"
LABEL_KEY = "evil\x1b[1;1H\",\"injected\":\"1\n"
LABEL_VALUE = "v\x1b]52;c;cGF5bG9hZA==\x07\u202e"
GIANT_VALUE = "G" * 100000
GIANT_ANNOTATION = "A\x1b[2J" * 200000
BUNDLE_POD = "bundle\x1b]0;t\x07\u009b\u202e"
BUNDLE_NAMESPACE = "bns\n\x1b[31m"
BUNDLE_CONTAINER = "bctr\x7f\u2029"

COMM = b"\x1b[31m\n\"\\" + RAW_CSI + C1_CSI + RLO  # 15 bytes, the kernel's limit
DIR_NAME = b"d" + ESC_CSI + b"\n" + OSC_TITLE + RAW_CSI + C1_CSI + RLO + b"\xff\\\"" + LSEP
LINK_NAME = b"cloud\x1b[2J\x7f.json"
LONG_LINK = b"L" * 180 + ESC_CSI + b"x" * 60
EXE_DIR = b"bin\x1b]0;t\x07"
EXE_NAME = b"py\x1b[6n" + RAW_CSI + RLO
ARGS = [OSC_TITLE, b"line\nbreak\r", b"\xff\xfe", C1_CSI + b"31m", RLO + b"gpj.exe",
        b"q\"b\\s\tt", b"Z" * 600]

DNS_LABELS = [b"\x1b[31m", b"a\nb", b"q\"\\", RAW_CSI, C1_CSI, RLO, b"\x07\x7f", b"example"]
DNS_TARGET = [b"t\x1b]0;x\x07", LSEP + b"\xff", b"target"]
DNS_ADDRESS = "127.77.5.5"
HTTP_PATH = (b"/metadata/identity/oauth2/token%1b%5b2J%0a%22%5c%c2%9b%9b%e2%80%ae%7f",
             b"/metadata/identity/oauth2/token\x1b[2J\n\"\\" + C1_CSI + RAW_CSI + RLO + b"\x7f")
HTTP_RESOURCE = (b"https%3A%2F%2Fvault%1b%5d0%3Bt%07", b"https://vault\x1b]0;t\x07")
HTTP_CLIENT_ID = (b"%0a%0d%e2%80%ae%c2%85", b"\n\r" + RLO + "\u0085".encode())
HTTP_HOST = b"169.254.169.254\x1b[2J"
HTTP_LONG_PATH = b"/metadata/" + b"%1b" * 200 + b"A" * 400
SNI = b"kv" + ESC_CSI + b"." + RLO + RAW_CSI + b"\x07.vault.azure.net"


def utf8_chars(data):
    """(character, bytes) for each valid UTF-8 character; (None, 1 byte) otherwise."""
    i = 0
    while i < len(data):
        for n in (1, 2, 3, 4):
            try:
                char = data[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(char) == 1:
                break
        else:
            char, n = None, 1
        yield char, data[i:i + n]
        i += n


def jsonw_decode(data):
    """What the monitor's JSON reads back as: each invalid byte one U+FFFD."""
    return "".join("\ufffd" if char is None else char for char, _ in utf8_chars(data))


def deceptive(char):
    cp = ord(char)
    return (cp < 0x20 or cp == 0x7f or 0x80 <= cp <= 0x9f or cp in (0x61c, 0x200e, 0x200f)
            or 0x2028 <= cp <= 0x202e or 0x2066 <= cp <= 0x2069)


def text_escape(data):
    """The monitor's --format text for bytes: what may show as is, else \\xNN each."""
    out = []
    for char, raw in utf8_chars(data):
        if char is None or deceptive(char) or char == "\\":
            out.extend("\\x%02x" % b for b in raw)
        else:
            out.append(char)
    return "".join(out)


# --- setup ------------------------------------------------------------------

def podlist(path, uid):
    with open(path) as f:
        doc = json.load(f)
    for item in doc["items"]:
        if item["metadata"]["uid"] != uid:
            continue
        meta = item["metadata"]
        meta["name"], meta["namespace"] = POD_NAME, POD_NAMESPACE
        labels = {LABEL_KEY: LABEL_VALUE, "giant": GIANT_VALUE}
        for i in range(20):
            labels["l%02d" % i] = "v%d\x1b" % i
        meta["labels"] = labels
        meta["annotations"] = {"giant": GIANT_ANNOTATION, "k\x1b": "\x1b[2J"}
        item["spec"]["serviceAccountName"] = SERVICE_ACCOUNT
        item["spec"]["containers"][0]["name"] = CONTAINER_NAME
        item["status"]["containerStatuses"][0]["name"] = CONTAINER_NAME
    with open(path, "w") as f:
        json.dump(doc, f)


def bundle(path, uid, cid):
    doc = {"ociVersion": "1.1.0", "process": {"args": ["/app"], "env": ["PATH=/bin"]},
           "annotations": {
               "io.kubernetes.cri.container-type": "container",
               "io.kubernetes.cri.container-name": BUNDLE_CONTAINER,
               "io.kubernetes.cri.image-name": "img\x1b[2J:" + "i" * 3000,
               "io.kubernetes.cri.sandbox-name": BUNDLE_POD,
               "io.kubernetes.cri.sandbox-namespace": BUNDLE_NAMESPACE,
               "io.kubernetes.cri.sandbox-uid": uid,
               "giant": GIANT_ANNOTATION}}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f)


def layout(work, node_root):
    """$WORK/h/DIR_NAME/{LINK_NAME,LONG_LINK} -> azure.json; $WORK/EXE_DIR/EXE_NAME -> python3."""
    work, target = os.fsencode(work), os.fsencode(node_root) + b"/etc/kubernetes/azure.json"
    directory = work + b"/h/" + DIR_NAME
    os.makedirs(directory, exist_ok=True)
    for name in (LINK_NAME, LONG_LINK):
        os.symlink(target, directory + b"/" + name)
    os.makedirs(work + b"/" + EXE_DIR, exist_ok=True)
    os.symlink(b"/usr/bin/python3", work + b"/" + EXE_DIR + b"/" + EXE_NAME)


def paths(work):
    work = os.fsencode(work)
    directory = work + b"/h/" + DIR_NAME
    return {"open": directory + b"/" + LINK_NAME, "long": directory + b"/" + LONG_LINK,
            "exe": work + b"/" + EXE_DIR + b"/" + EXE_NAME}


# --- workloads --------------------------------------------------------------

def spawn_argv(work):
    p = paths(work)
    return [p["exe"], os.fsencode(os.path.abspath(__file__)), b"open", p["open"], p["long"]] + ARGS


def open_renamed(names):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(COMM), 0, 0, 0) != 0:  # PR_SET_NAME
        sys.exit("prctl failed")
    for name in names:
        os.close(os.open(name, os.O_RDONLY))


def dns_name(labels):
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def dns_server(address, port, ready):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, int(port)))
    open(ready, "w").close()
    while True:
        query, peer = sock.recvfrom(4096)
        qid = struct.unpack(">H", query[:2])[0]
        end = query.index(b"\0", 12) + 5
        question = query[12:end]
        target = dns_name(DNS_TARGET)
        answer = (struct.pack(">HHHHHH", qid, 0x8180, 1, 2, 0, 0) + question +
                  b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(target)) + target +
                  target + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(DNS_ADDRESS))
        sock.sendto(answer, peer)


def dns_client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    query = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + dns_name(DNS_LABELS) + \
        struct.pack(">HH", 1, 1)
    sock.sendto(query, ("127.0.0.53", 53))
    sock.recvfrom(4096)
    tcp = socket.socket()
    tcp.settimeout(1)
    try:
        tcp.connect((DNS_ADDRESS, 80))
    except OSError:
        pass


def http_client():
    requests = [
        b"GET " + HTTP_PATH[0] + b"?api-version=2018-02-01&resource=" + HTTP_RESOURCE[0] +
        b"&client_id=" + HTTP_CLIENT_ID[0] + b" HTTP/1.1\r\nHost: " + HTTP_HOST +
        b"\r\nMetadata: true\r\n\r\n",
        b"GET " + HTTP_LONG_PATH + b" HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"]
    for request in requests:
        sock = socket.create_connection(("169.254.169.254", 80), timeout=3)
        sock.sendall(request)
        try:
            sock.recv(4096)
        except OSError:
            pass
        sock.close()


def client_hello(server_name):
    entry = b"\0" + struct.pack(">H", len(server_name)) + server_name
    sni = struct.pack(">HH", 0, len(entry) + 2) + struct.pack(">H", len(entry)) + entry
    body = (b"\x03\x03" + os.urandom(32) + b"\0" + struct.pack(">H", 2) + b"\x13\x01" +
            b"\x01\x00" + struct.pack(">H", len(sni)) + sni)
    handshake = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


def tls_client(address, port):
    sock = socket.create_connection((address, int(port)), timeout=3)
    sock.sendall(client_hello(SNI))
    try:
        sock.recv(1024)
    except OSError:
        pass
    sock.close()


# --- checks -----------------------------------------------------------------

PROBLEMS = []


def problem(message):
    PROBLEMS.append(message)


def harmless(line, what):
    """Valid UTF-8 with no control, separator or bidirectional control."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        problem("%s: invalid UTF-8 at byte %d: %r" % (what, e.start, line[:200]))
        return False
    for i, char in enumerate(text):
        if deceptive(char):
            problem("%s: U+%04X at character %d: %r" % (what, ord(char), i, line[:200]))
            return False
    return True


def lines_of(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        problem("%s: the last line has no newline" % path)
    return data.split(b"\n")[:-1] if data else []


def check_json(path):
    records = []
    for n, line in enumerate(lines_of(path), 1):
        harmless(line, "%s:%d" % (path, n))
        try:
            records.append(json.loads(line.decode("utf-8", "replace")))
        except ValueError as e:
            problem("%s:%d: not strict JSON (%s): %r" % (path, n, e, line[:200]))
    return records


def check_text(path):
    lines = lines_of(path)
    for n, line in enumerate(lines, 1):
        harmless(line, "%s:%d" % (path, n))
    return lines


def expect_eq(got, want, what):
    if got != want:
        problem("%s: got %r, expected %r" % (what, got, want))


def only(records, what, keep):
    found = [r for r in records if keep(r)]
    if len(found) != 1:
        problem("%s: %d records, expected 1" % (what, len(found)))
        return None
    return found[0]


def check_inventory(path, uid):
    """The inventory document: harmless on every line, strict JSON, the names as given."""
    with open(path, "rb") as f:
        data = f.read()
    for n, line in enumerate(data.split(b"\n"), 1):
        harmless(line, "%s:%d" % (path, n))
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError as e:
        problem("%s: not strict JSON: %s" % (path, e))
        return
    pods = [p for p in doc.get("pods", []) if p.get("uid") == uid]
    if len(pods) != 1:
        problem("inventory: %d pods with uid %s" % (len(pods), uid))
        return
    expect_eq(pods[0].get("name"), POD_NAME, "inventory pod name")
    expect_eq(pods[0].get("namespace"), POD_NAMESPACE, "inventory pod namespace")
    expect_eq(pods[0].get("labels_truncated"), True, "inventory labels_truncated")


def expect_bundle_pod(records, text, uid):
    """A pod only containerd's bundle names: its names are cut at 253 bytes too."""
    mine = [r for r in records if (r.get("pod") or {}).get("uid") == uid]
    opened = only(mine, "open by the bundle pod", lambda r: r["type"] == "open")
    if not opened:
        return
    expect_eq(opened["pod"]["name"], BUNDLE_POD, "bundle pod.name")
    expect_eq(opened["pod"]["namespace"], BUNDLE_NAMESPACE, "bundle pod.namespace")
    expect_eq(opened["pod"]["container"], BUNDLE_CONTAINER, "bundle pod.container")
    pod_text = "pod=%s/%s container=%s " % (text_escape(BUNDLE_NAMESPACE.encode()),
                                           text_escape(BUNDLE_POD.encode()),
                                           text_escape(BUNDLE_CONTAINER.encode()))
    expect_eq(len([t for t in text if pod_text in t]), len(mine),
              "text lines of the bundle pod against its JSON records")


def expect(out, text_path, work, uid, bundle_uid):
    records = check_json(out)
    text = [line.decode("utf-8", "replace") for line in check_text(text_path)]
    mine = [r for r in records if (r.get("pod") or {}).get("uid") == uid]
    p = paths(work)
    pod_text = "pod=%s/%s container=%s " % (text_escape(POD_NAMESPACE.encode()),
                                           text_escape(POD_NAME.encode()),
                                           text_escape(CONTAINER_NAME.encode().split(b"\0")[0]))
    text_mine = [line for line in text if pod_text in line]
    expect_bundle_pod(records, text, bundle_uid)
    expect_eq(len(text_mine), len(mine), "text lines of the pod (%r) against JSON records" % pod_text)
    if not mine:
        problem("no record of the pod")
        return

    # The pod, from the PodList: every record carries it the same.
    pod = mine[0]["pod"]
    expect_eq(pod["name"], POD_NAME, "pod.name")
    expect_eq(pod["namespace"], POD_NAMESPACE, "pod.namespace")
    # A JSON string ends at U+0000 for the C parser: the name is what comes before.
    expect_eq(pod["container"], CONTAINER_NAME.split("\0")[0], "pod.container")
    expect_eq(pod["service_account"], SERVICE_ACCOUNT, "pod.service_account")
    expect_eq(len(pod["labels"]), 16, "labels written")
    expect_eq(pod.get("labels_truncated"), True, "labels_truncated")
    expect_eq(pod["labels"].get(LABEL_KEY), LABEL_VALUE, "hostile label")
    expect_eq(pod["labels"].get("giant"), GIANT_VALUE[:1024], "giant label, cut at 1024 bytes")

    opens = [r for r in mine if r["type"] == "open"]
    expect_eq(len(opens), 2, "open records")
    by_path = {o["file"]["path"]: o for o in opens}
    opened = by_path.get(jsonw_decode(p["open"]))
    if not opened:
        problem("no open record with the hostile path %r; paths: %r" % (
            jsonw_decode(p["open"]), list(by_path)))
    else:
        proc = opened["proc"]
        expect_eq(proc["comm"], jsonw_decode(COMM), "proc.comm after PR_SET_NAME")
        expect_eq(proc["exe"], jsonw_decode(p["exe"]), "proc.exe")
        expect_eq(opened["file"]["kind"], "node-cloud-config", "file.kind")
        expect_eq(opened["file"].get("path_truncated"), None, "path_truncated of a short path")
        args = proc["args"] or []
        want = [jsonw_decode(a) for a in spawn_argv(work)]
        expect_eq(proc.get("args_truncated"), True, "args_truncated (more than 512 bytes)")
        if sum(len(a.encode()) + 1 for a in args) > 512 + 3 * len(args):
            problem("args longer than 512 bytes: %r" % args)
        for i, arg in enumerate(args):
            if i < len(args) - 1:
                expect_eq(arg, want[i], "proc.args[%d]" % i)
            elif not want[i].startswith(arg.rstrip("\ufffd")):
                problem("proc.args[%d]: %r is not a prefix of %r" % (i, arg, want[i]))
        line = [t for t in text_mine if " open " in t and "comm=" + text_escape(COMM) in t]
        expect_eq(len(line), 2, "text open lines with the escaped comm")
        if line and "file=" + text_escape(p["open"]) not in "".join(line):
            problem("text: no file=%s in %r" % (text_escape(p["open"]), line))
        if line and "exe=" + text_escape(p["exe"]) not in line[0]:
            problem("text: no exe=%s in %r" % (text_escape(p["exe"]), line[0]))
    long = [o for o in opens if o["file"].get("path_truncated")]
    if len(long) != 1:
        problem("one open with path_truncated expected, got %d" % len(long))
    else:
        expect_eq(long[0]["file"]["path"], jsonw_decode(p["long"][:255]),
                  "file.path cut at 255 bytes")

    # DNS: the question and answers as the pod got them, lower case, and the name
    # given to the address it then connected to.
    dns = only(mine, "dns record", lambda r: r["type"] == "dns")
    if dns:
        expect_eq(dns["dns"]["question"], jsonw_decode(b".".join(DNS_LABELS).lower()),
                  "dns.question")
        answers = dns["dns"]["answers"]
        expect_eq([a["type"] for a in answers], ["CNAME", "A"], "answer types")
        if len(answers) == 2:
            expect_eq(answers[0]["data"], jsonw_decode(b".".join(DNS_TARGET)), "CNAME target")
            expect_eq(answers[1]["name"], jsonw_decode(b".".join(DNS_TARGET)), "A name")
    connect = only(mine, "connect to the hostile name",
                   lambda r: r["type"] == "connect" and r["dst"]["ip"] == DNS_ADDRESS)
    if connect:
        expect_eq(connect["dst"]["host"], jsonw_decode(b".".join(DNS_LABELS).lower()),
                  "dst.host from DNS")
        line = [t for t in text_mine if DNS_ADDRESS in t and " connect " in t]
        if not line or "host=" + text_escape(b".".join(DNS_LABELS).lower()) not in line[0]:
            problem("text: no escaped host in %r" % line)

    # IMDS: path, query and Host header, percent-decoded, and a path cut at 511 bytes.
    https = [r for r in mine if r["type"] == "http"]
    expect_eq(len(https), 2, "http records")
    hostile = [r for r in https if r["http"].get("host") == jsonw_decode(HTTP_HOST)]
    if len(hostile) != 1:
        problem("http with the hostile Host header: %r" % [r.get("http") for r in https])
    else:
        http = hostile[0]["http"]
        expect_eq(http["path"], jsonw_decode(HTTP_PATH[1]), "http.path")
        expect_eq(http["query"]["resource"], jsonw_decode(HTTP_RESOURCE[1]), "query.resource")
        expect_eq(http["query"]["client_id"], jsonw_decode(HTTP_CLIENT_ID[1]), "query.client_id")
        line = [t for t in text_mine if " http " in t and "resource=" in t]
        if not line or text_escape(HTTP_PATH[1]) not in line[0]:
            problem("text: no escaped path in %r" % line)
    long = [r for r in https if r["http"].get("path", "").startswith("/metadata/\x1b")]
    if len(long) != 1:
        problem("http with the long path: %r" % [r.get("http") for r in https])
    else:
        expect_eq(long[0]["http"]["path"], jsonw_decode(b"/metadata/" + b"\x1b" * 200 + b"A" * 301),
                  "http.path cut at 511 bytes")

    # TLS: the server name of a ClientHello sent to an address no DNS answer named.
    tls = only(mine, "connect to 127.77.0.20:443",
               lambda r: r["type"] == "connect" and r["dst"]["ip"] == "127.77.0.20")
    if tls:
        expect_eq(tls["dst"]["host"], jsonw_decode(SNI.lower()), "dst.host from SNI")
        expect_eq(tls["dst"]["name_source"], "sni", "name_source")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "podlist":
        podlist(*args)
    elif command == "bundle":
        bundle(*args)
    elif command == "layout":
        layout(*args)
    elif command == "path":
        sys.stdout.buffer.write(paths(args[0])[args[1]])
    elif command == "spawn":
        argv = spawn_argv(args[0])
        os.execv(argv[0], argv)
    elif command == "open":
        open_renamed([os.fsencode(a) for a in args[:2]])
    elif command == "dns-server":
        dns_server(*args)
    elif command == "dns-client":
        dns_client()
    elif command == "http-client":
        http_client()
    elif command == "tls-client":
        tls_client(*args)
    elif command == "check-json":
        check_json(args[0])
    elif command == "check-inventory":
        check_inventory(*args[:2])
    elif command == "check-text":
        check_text(args[0])
    elif command == "expect":
        expect(*args[:5])
    else:
        sys.exit("hostile.py: unknown command %s" % command)
    for message in PROBLEMS:
        print(message)
    sys.exit(1 if PROBLEMS else 0)


if __name__ == "__main__":
    main()
