"""A TCP listener on a loopback address for tests that must prove no connection is ever made."""

import socket
import threading
import time


class Listener:
    """A TCP listener on `host` (a loopback address) that records every connection made to it."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(20)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            conn.close()

    def close(self):
        time.sleep(0.2)
        self.running = False
        self.thread.join()
        self.sock.close()
