"""A TLS proxy in front of the sandbox's /oauth/token, for scripts/chaos: the workers' TUKU_OAUTH_TOKEN_URL points
here, and the mode file says how the token endpoint misbehaves. Prints `listening PORT` once up.

Usage: token_proxy.py --cert C --key K --ca CA --upstream HOST:PORT --mode-file F --log F.jsonl

Modes (the mode file's first line, re-read on every request):
  pass                      forward and answer
  slow SECONDS              wait, then forward and answer
  fail                      answer 503 without forwarding
  die-after-rotate N        forward the next N requests (the sandbox rotates the refresh token), then close the
                            connection without answering; then behave as `pass`
"""
import argparse
import http.client
import http.server
import json
import socket
import ssl
import struct
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--ca", required=True)
parser.add_argument("--upstream", required=True)
parser.add_argument("--mode-file", required=True)
parser.add_argument("--log", required=True)
args = parser.parse_args()

lock = threading.Lock()
state = {"mode": None, "dies_left": 0}
log_file = open(args.log, "a", buffering=1)
upstream_context = ssl.create_default_context(cafile=args.ca)
upstream_host, upstream_port = args.upstream.rsplit(":", 1)


def current_mode():
    try:
        with open(args.mode_file) as f:
            line = (f.readline().strip() or "pass")
    except OSError:
        line = "pass"
    with lock:
        if line != state["mode"]:
            state["mode"] = line
            parts = line.split()
            state["dies_left"] = int(parts[1]) if parts[0] == "die-after-rotate" and len(parts) > 1 else 0
        parts = line.split()
        if parts[0] == "die-after-rotate":
            if state["dies_left"] > 0:
                state["dies_left"] -= 1
                return ["die-after-rotate"]
            return ["pass"]
        return parts


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def record(self, **fields):
        fields["at"] = time.time()
        log_file.write(json.dumps(fields) + "\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        mode = current_mode()
        if mode[0] == "fail":
            self.record(mode="fail", upstream=None, answered=503)
            reply = b'{"error":"temporarily_unavailable"}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        if mode[0] == "slow":
            time.sleep(float(mode[1]) if len(mode) > 1 else 30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        try:
            connection = http.client.HTTPSConnection(upstream_host, int(upstream_port), context=upstream_context, timeout=30)
            connection.request("POST", self.path, body=body, headers=headers)
            response = connection.getresponse()
            reply = response.read()
            status = response.status
            content_type = response.getheader("Content-Type", "application/json")
            connection.close()
        except OSError as error:
            self.record(mode=mode[0], upstream=None, error=str(error), answered=502)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode[0] == "die-after-rotate":
            self.record(mode="die-after-rotate", upstream=status, answered=None)
            # A reset, not a clean close: the client learns nothing about the rotation.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.record(mode=mode[0], upstream=status, answered=status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(reply)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(args.cert, args.key)
context.load_verify_locations(args.ca)
context.verify_mode = ssl.CERT_OPTIONAL
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
