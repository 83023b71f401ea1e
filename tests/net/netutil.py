"""Shared by the network tests (fetch-faults, run-faults): namespace guard, servers that
are started, waited for and always stopped, and the ok/not-ok tally."""
import os
import subprocess
import sys
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
        self.check(what, not bad, ", ".join("want %s=%r, got %r" % (k, v, result.get(k)) for k, v in bad.items()))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
