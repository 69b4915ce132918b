#!/usr/bin/env python3
"""A backend that records every operation id it accepts.

record_server.py PORT_FILE LOG_FILE [DELAY_S]: listens on a free loopback
port (written to PORT_FILE once listening), answers each POST whose JSON
body is {"ids": [...]} with 200 after DELAY_S (default 0.02: requests stay
in flight a while), and appends the ids, one per line, to LOG_FILE before
answering. What a crash test compares with what its client was told.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
lock = threading.Lock()
log = open(log_file, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            ids = json.loads(body)["ids"]
        except (ValueError, KeyError, TypeError):
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        time.sleep(delay)
        with lock:
            log.write("".join(f"{i}\n" for i in ids))
            log.flush()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass  # the client was killed: it never saw this answer

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed client's connection: nothing to report


server = Server(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
