"""The churn model behind /health and /predict, standard library only."""

import json
import math
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 ignores SIGTERM otherwise
SCENARIO = os.environ.get("PROBE_SCENARIO", "serving")
if SCENARIO == "crashes":
    print("ERROR churn_service: model/churn-model.json: no such file", file=sys.stderr)
    sys.exit(3)
if SCENARIO == "never-ready":
    print("INFO churn_service: waiting for a feature store that never answers", flush=True)
    time.sleep(3600)
with open("model.json") as file:
    MODEL = json.load(file)
print(f"INFO churn_service: loaded model model.json (version {MODEL['version']})", flush=True)


def score(customer):
    z = MODEL["intercept"]
    for name, mean, scale, coef in zip(
        MODEL["features"], MODEL["mean"], MODEL["scale"], MODEL["coef"], strict=True
    ):
        z += coef * (float(customer[name]) - mean) / scale
    p = 1 / (1 + math.exp(-z))
    return {"churn": z > 0, "probability": round(p, 4)}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok", "model_version": MODEL["version"]})
        else:
            self.reply(404, {"detail": "Not Found"})

    def do_POST(self):
        if self.path != "/predict":
            self.reply(404, {"detail": "Not Found"})
            return
        try:
            length = int(self.headers.get("Content-Length", 0))
            customers = json.loads(self.rfile.read(length))["customers"]
            predictions = [score(c) for c in customers]
        except (ValueError, KeyError, TypeError) as exc:
            self.reply(422, {"detail": str(exc)})
            return
        print(f"INFO churn_service: scored {len(predictions)} customers", flush=True)
        self.reply(200, {"model_version": MODEL["version"], "predictions": predictions})

    def log_message(self, format, *args):
        print("INFO access: " + format % args, flush=True)


ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
