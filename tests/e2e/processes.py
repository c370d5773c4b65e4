"""Process helpers shared by the end-to-end suites (tests/e2e, tests/scaleout):
free loopback ports, a `promlite serve` process, and cleanup of everything
started. Standard library only."""

import atexit
import re
import shutil
import socket
import subprocess
import tempfile
import threading

#: Every process started, killed at exit if still running.
PROCS = []
_WORKDIRS = []


def workdir(prefix):
    """A temporary directory removed at exit, after the processes are gone."""
    path = tempfile.mkdtemp(prefix=prefix)
    _WORKDIRS.append(path)
    return path


def _cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    for path in _WORKDIRS:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_cleanup)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PromliteProcess:
    """`promlite serve` started with `args`; `url` is where it listens (read
    from its startup line), `log` collects its stderr."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
        PROCS.append(self.proc)
        self.log = []
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("promlite exited: " + "".join(self.log))
            self.log.append(line)
            m = re.search(r"serving .* on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self, sig):
        """Sends `sig`, waits for the exit and returns the exit code."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc.stderr.close()
        return code
