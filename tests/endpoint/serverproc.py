"""Runs the real server (waitress + the app + its worker processes) in a process of its own, with a
ServerConfig given as JSON: `python serverproc.py '{"port": 5123, "data": [...]}'`. The tests start it,
wait for /status, and stop it with SIGTERM."""

import json
import sys

from peacegraph.server.cli import serve
from peacegraph.server.config import ServerConfig

if __name__ == "__main__":
    serve(ServerConfig(**json.loads(sys.argv[1])))
