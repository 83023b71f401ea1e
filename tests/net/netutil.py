"""Shared by the network tests (fetch-faults, run-faults, tls-interop, tls-middlebox):
namespace guard, servers that are started, waited for and always stopped, the ok/not-ok
tally, and TLS records as they cross the wire (a hand-made ClientHello, a record reader, a
relay that keeps what each side sent)."""
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time


def require_netns(name):
    """The tests run only inside a namespace of their own (tools/netns-run makes one)."""
    if os.environ.get("STAPLER_NETNS") != "1":
        sys.exit("%s: run it through tools/netns-run (a private network namespace), as CTest does" % name)


def listening(port):
    """Is something listening on TCP `port`? Read from /proc: a probing connection would
    wedge openssl ocsp, which serves one connection at a time."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in open(table).readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
        except OSError:
            pass
    return False


def start_server(cmd, port, log_path, cwd=None):
    """Start a server and wait until it listens on `port`; stop the test if it does not."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=open(log_path, "a"))
    for _ in range(200):
        if listening(port):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_server(proc)
    sys.exit("%s did not start listening on %d (see %s)" % (cmd[0], port, log_path))


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Tally:
    """TAP-like lines and the closing count CTest matches."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok - " + what)
        else:
            self.failed += 1
            print("not ok - %s: %s" % (what, detail))

    def expect(self, what, result, **want):
        bad = {k: v for k, v in want.items() if result.get(k) != v}
        detail = ", ".join("want %s=%r, got %r" % (k, v, result.get(k)) for k, v in bad.items())
        if bad:  # the whole result, so a failure seen once in CI can be understood from its log
            detail += "\n    result: " + repr(result)
        self.check(what, not bad, detail)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


# --- TLS on the wire ------------------------------------------------------------------------
TLS_CHANGE_CIPHER_SPEC, TLS_ALERT, TLS_HANDSHAKE, TLS_APPLICATION_DATA = 20, 21, 22, 23
RECORD_NAMES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
# RFC 8446 4.1.3: the ServerHello.random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# The P-256 generator (private key 1) as an uncompressed point: a valid key_share for a
# ClientHello whose handshake is never finished, so no key needs to be made.
P256_GENERATOR = bytes.fromhex("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                               "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


def _vec(length_bytes, data):
    return len(data).to_bytes(length_bytes, "big") + data


def tls13_client_hello(session_id, server_name, p256_share=True):
    """One ClientHello record offering TLS 1.3 only (RFC 8446 4.1.2): AES-GCM suites, groups
    x25519 and secp256r1, ECDSA and RSA-PSS signatures. With p256_share a secp256r1 key share;
    without, only an x25519 one (junk bytes): a server without x25519 answers with a
    HelloRetryRequest."""
    def ext(kind, body):
        return struct.pack(">H", kind) + _vec(2, body)
    share = (struct.pack(">H", 0x0017) + _vec(2, P256_GENERATOR)) if p256_share else \
        (struct.pack(">H", 0x001d) + _vec(2, os.urandom(32)))
    extensions = (ext(0x0000, _vec(2, b"\x00" + _vec(2, server_name.encode())))  # server_name
                  + ext(0x000a, _vec(2, struct.pack(">HH", 0x001d, 0x0017)))      # supported_groups
                  + ext(0x000d, _vec(2, struct.pack(">HHHH", 0x0403, 0x0804, 0x0503, 0x0805)))
                  + ext(0x002b, _vec(1, struct.pack(">H", 0x0304)))              # supported_versions
                  + ext(0x0033, _vec(2, share)))                                 # key_share
    body = (b"\x03\x03" + os.urandom(32) + _vec(1, session_id) + _vec(2, struct.pack(">HH", 0x1301, 0x1302))
            + b"\x01\x00" + _vec(2, extensions))
    message = b"\x01" + _vec(3, body)
    return b"\x16\x03\x01" + _vec(2, message)


def split_records(data):
    """The complete records in `data`: a list of (content type, body)."""
    records, at = [], 0
    while at + 5 <= len(data):
        length = struct.unpack(">H", data[at + 3:at + 5])[0]
        if at + 5 + length > len(data):
            break
        records.append((data[at], data[at + 5:at + 5 + length]))
        at += 5 + length
    return records


def read_records(sock, want, timeout):
    """Read records until `want` of them came, the peer closed, or `timeout` seconds passed."""
    data, deadline = b"", time.time() + timeout
    while len(split_records(data)) < want and time.time() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.time()))
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return split_records(data)


def server_hello_session_id(body):
    """(legacy_session_id_echo, is a HelloRetryRequest) of a ServerHello handshake record, or None."""
    if len(body) < 39 or body[0] != 2:
        return None
    return body[39:39 + body[38]], body[6:38] == HRR_RANDOM


def record_summary(records):
    """'handshake 99, change_cipher_spec 6, ...': each record's size on the wire, in order."""
    return ", ".join("%s %d" % (RECORD_NAMES.get(t, str(t)), 5 + len(b)) for t, b in records)


class Relay:
    """Accept one connection on 127.0.0.1:port, connect it to 127.0.0.1:target and copy both
    ways until both sides have closed, keeping what each side sent (for TLS, the records)."""

    def __init__(self, port, target):
        self.target, self.sent_by_client, self.sent_by_server = target, b"", b""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.listener.settimeout(30)
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        finally:
            self.listener.close()
        server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        peers, open_sides = {client: server, server: client}, 2
        while open_sides > 0:
            ready, _, _ = select.select([s for s in peers if peers[s] is not None], [], [], 30)
            if not ready:
                break
            for s in ready:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if s is client:
                    self.sent_by_client += data
                else:
                    self.sent_by_server += data
                try:
                    if data:
                        peers[s].sendall(data)
                    else:
                        peers[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                if not data:
                    peers[s] = None
                    open_sides -= 1
        client.close()
        server.close()

    def wait(self, timeout=30):
        self.thread.join(timeout)
        return split_records(self.sent_by_client), split_records(self.sent_by_server)
