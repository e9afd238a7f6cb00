#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/ from real inputs: slices of the bundled SILSO
files, the request bodies of README.md and tests/integration/, tiny models trained by fwpcast on
a short series, and the IBM / IonQ result shapes of docs/QUANTUM_CLOUDS.md and tests/fakes/.
Each harness's file starts with the harness's own header bytes (see each tests/fuzz/fuzz_*.c).

Run from the repository root after `make`:  python3 tests/fuzz/make_seeds.py [build/fwpcast]
Not part of the build; the corpora it writes are committed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

FWPCAST = sys.argv[1] if len(sys.argv) > 1 else "build/fwpcast"
OUT = "tests/fuzz/corpus"


def write(harness, name, data):
    os.makedirs(os.path.join(OUT, harness), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, harness, name), "wb") as f:
        f.write(data)


def lines(path, first, count):
    with open(path, encoding="utf-8") as f:
        return "".join(f.readlines()[first:first + count])


def compact(doc):
    return json.dumps(doc, separators=(",", ":"))


# --- import: [format] + text (0 auto, 1 silso-monthly, 2 silso-yearly, 3 csv, 4 json) ---
monthly = lines("data/SN_m_tot_V2.0.csv", 3300, 40)
smoothed = lines("data/SN_ms_tot_V2.0.csv", 0, 12) + lines("data/SN_ms_tot_V2.0.csv", 3300, 30)
yearly = lines("data/SN_y_tot_V2.0.csv", 280, 40)
short_csv = "".join("%s,%s\n" % (l.split(";")[0] + "-" + l.split(";")[1], l.split(";")[3].strip())
                    for l in monthly.splitlines())
write("import", "silso-monthly-auto", b"\x00" + monthly.encode())
write("import", "silso-monthly", b"\x01" + monthly.encode())
write("import", "silso-smoothed-auto", b"\x00" + smoothed.encode())
write("import", "silso-yearly", b"\x02" + yearly.encode())
write("import", "silso-yearly-auto", b"\x00" + yearly.encode())
write("import", "csv-header-crlf", b"\x03" + ("\ufeffperiod,value\r\n" + short_csv.replace("\n", "\r\n")).encode())
write("import", "csv-auto", b"\x00" + short_csv.encode())
write("import", "csv-pandas-index", b"\x00" + (",Date,Value\n" + "".join(
    "%d,%s-28,%s\n" % (i, l.split(",")[0], l.split(",")[1]) for i, l in enumerate(short_csv.splitlines()))).encode())
write("import", "csv-yearly-missing", b"\x03" + b"1990,1\n1991,\n1992,3.5\n")
points = [{"period": l.split(",")[0], "value": float(l.split(",")[1])} for l in short_csv.splitlines()[:12]]
points[3]["value"] = None
points[4].update({"std": 4.5, "n_obs": 310, "provisional": True})
write("import", "json", b"\x04" + compact({"name": "t", "frequency": "month", "unit": "SN",
                                            "source": "seed", "points": points}).encode())
write("import", "json-yearly-auto", b"\x00" + compact({"name": "y", "frequency": "year", "points": [
    {"period": "1990", "value": 1}, {"period": "1991", "value": None}]}).encode())

# --- models: tiny ones trained on a short series ---
tmp = tempfile.mkdtemp()
series = os.path.join(tmp, "short.csv")
with open(series, "w") as f:
    f.write("".join("%s-%s,%s\n" % (l.split(";")[0], l.split(";")[1], l.split(";")[3].strip())
                    for l in lines("data/SN_m_tot_V2.0.csv", 3180, 150).splitlines()))
models = {
    "gated-qkan-fwp": ("24", "6", "slow_dim=3;hidden=4;fast_in=2;fast_out=3"),
    "lstm": ("12", "3", "hidden=3"),
    "rnn": ("12", "3", "hidden=3"),
    "esn": ("12", "3", "units=8"),
    "qfwp": ("12", "3", "qubits=2;depth=1;hidden=3;fast_out=2"),
}
files = {}
for arch, (window, horizon, config) in models.items():
    out = os.path.join(tmp, arch + ".fwp")
    subprocess.run([FWPCAST, "train", "--model", arch, "--dataset", series, "--protocol", "live",
                    "--window", window, "--horizon", horizon, "--config", config, "--epochs", "1",
                    "--db", os.path.join(tmp, "db"), "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files[arch] = open(out, "rb").read()
    subprocess.run([FWPCAST, "export", out, "--format", "json", "--out", out + ".json"], check=True)
    files[arch + ".json"] = compact(json.load(open(out + ".json")))

# model_file: [mode: bit 0 = fix the CRC] + file
for arch in models:
    write("model_file", arch, b"\x00" + files[arch])
    write("model_file", arch + "-fixcrc", b"\x01" + files[arch])

# model_json: [bit 0 = pass a scaler] + document
write("model_json", "gated-qkan-fwp", b"\x00" + files["gated-qkan-fwp.json"].encode())
write("model_json", "lstm", b"\x00" + files["lstm.json"].encode())
doc = json.loads(files["gated-qkan-fwp.json"])
bare = {k: {"shape": v["shape"], "data": v["data"]} for k, v in doc["state_dict"].items()}
bare.update({"architecture": doc["architecture"], "config": doc["config"]})
write("model_json", "state-dict-bare", b"\x01" + compact(bare).encode())
flat = {k: v["data"] for k, v in doc["state_dict"].items()}
flat.update({"architecture": doc["architecture"], "config": doc["config"],
             "scaler": {"min": 0, "max": 398.2}})
write("model_json", "state-dict-flat", b"\x00" + compact(flat).encode())

# --- config: [architecture index in the registry] + [seed] + text ---
archs = ["gated-qkan-fwp", "gqkan-fwp", "gqkanfwp", "gqkan-qfwp", "qfwp", "lstm", "rnn",
         "wavenet-lstm", "esn"]
configs = [
    ("gated-qkan-fwp", "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"),
    ("gated-qkan-fwp", "window=12,horizon=3,slow_dim=2,hidden=2,fast_in=2,fast_out=2,readout=born,recurrence=sequential"),
    ("gqkan-fwp", "window=8 horizon=2 slow_dim=2 hidden=2 fast_in=2 fast_out=2 gate_bias=-1.5 dropout=0.1"),
    ("gqkanfwp", "window=8;horizon=2;hidden=2;fast_in=2;fast_out=2;recurrence=parallel;batchnorm=0"),
    ("gqkan-qfwp", "window=8;horizon=2;slow_dim=2;hidden=2;qubits=2;depth=1;fast_out=2"),
    ("qfwp", "window=8;horizon=2;qubits=2;depth=1;hidden=2"),
    ("lstm", "window=8;horizon=2;hidden=3;batchnorm=0;dropout=0"),
    ("rnn", "window=8;horizon=2;hidden=3;recurrent_bias=1"),
    ("wavenet-lstm", "window=8;horizon=2;channels=2;skip_channels=2;blocks=2;kernel=2;hidden=3"),
    ("esn", "window=8;horizon=2;units=8;density=0.5;spectral_radius=0.9;leak=0.3;ridge=1e-3"),
]
for i, (arch, text) in enumerate(configs):
    write("config", "%02d-%s" % (i, arch), bytes([archs.index(arch), i]) + text.encode())

# --- ibm: [number of PUBs] + Sampler V2 result (docs/QUANTUM_CLOUDS.md, tests/fakes/fake_ibm.c) ---
write("ibm", "two-pubs", b"\x02" + b'{"results": [\n   {"data": {"c": {"samples": ["0x0","0x1","0x0"], "num_bits": 1}},\n    "metadata": {"circuit_metadata": {}}},\n   {"data": {"c": {"samples": ["0x1","0x1"], "num_bits": 1}}, "metadata": {"circuit_metadata": {}}}\n ],\n "metadata": {"version": 2}}')
write("ibm", "meas-register", b"\x01" + b'{"results": [{"data": {"meas": {"samples": ["0x1","0X3","0x2"], "num_bits": 2}}}], "metadata": {"version": 2, "x": [1.5e3, -2, true, null, "a\\"b"]}}')
write("ibm", "c-and-other", b"\x01" + b'{"metadata": {}, "results": [{"metadata": {"circuit_metadata": {"k": [[]]}}, "data": {"c": {"samples": ["0xf"]}, "d": {"samples": []}}}]}')
write("ibm", "empty", b"\x00" + b'{"results": []}')

# --- ionq: [format: 0 probabilities v1, 1 probabilities v2, 2 histogram v1, 3 histogram v2] ---
write("ionq", "probabilities-v1", b"\x00" + b'{"0": 0.6, "1": 0.4}')
write("ionq", "probabilities-v1-exact", b"\x00" + b'{"0": 1}')
write("ionq", "probabilities-v2", b"\x01" + b'{"probabilities": {"registers": {"output_all": {"00": 0.5, "01": 0.25, "11": 0.25}}}}')
write("ionq", "histogram-v1", b"\x02" + b'{"0": 612, "1": 412}')
write("ionq", "histogram-v2", b"\x03" + b'{"histogram": {"registers": {"output_all": {"0": 600, "1": 424}}}}')

# --- http: [method, route, id, content type, auth|origin, suffix length, query length]
#           + path suffix + query + body (see fuzz_http.c for the tables) ---
GET, POST, DELETE, HEAD, PUT, OPTIONS = range(6)
ROUTES = ["/healthz", "/metrics", "/datasets", "/datasets/{id}", "/models", "/models/{id}",
          "/models/import", "/models/{id}/export", "/jobs/{id}", "/jobs/{id}/resume",
          "/forecast", "/backtest", "/compare", "/", "/index.html"]
TYPES = [None, "application/json", "text/csv", "text/plain", "application/octet-stream",
         "application/x-www-form-urlencoded", "text/xml", "application/json; charset=utf-8"]
AUTH = 2  # the right token; origin none


def request(name, method, route, body=b"", id=1, type=None, query="", suffix="", who=AUTH):
    if isinstance(body, str):
        body = body.encode()
    r = ROUTES.index(route) if route in ROUTES else 255
    header = bytes([method, r, id - 1, TYPES.index(type), who, len(suffix), len(query)])
    write("http", name, header + suffix.encode() + query.encode() + body)


JSON = "application/json"
tiny = compact({"window": 24, "horizon": 6, "epochs": 1, "config": {
    "slow_dim": 3, "hidden": 4, "fast_in": 2, "fast_out": 3}})[1:-1]
request("healthz", GET, "/healthz")
request("metrics", GET, "/metrics")
request("datasets", GET, "/datasets")
request("dataset-range", GET, "/datasets/{id}", query="from=2019-01&to=2019-12")
request("dataset-delete", DELETE, "/datasets/{id}", id=3)
request("models", GET, "/models")
request("model", GET, "/models/{id}")
request("model-delete", DELETE, "/models/{id}", id=2)
request("export-json", GET, "/models/{id}/export", query="format=json")
request("export-binary", GET, "/models/{id}/export", query="format=binary")
request("job", GET, "/jobs/{id}")
request("job-cancel", DELETE, "/jobs/{id}")
request("job-resume", POST, "/jobs/{id}/resume")
request("compare", GET, "/compare", query="suite=solar")
request("compare-ts", GET, "/compare", query="suite=timeseries&epochs=100")
request("forecast-default", POST, "/forecast")
request("forecast-h", POST, "/forecast", '{"h": 24, "level": [50, 90]}', type="application/x-www-form-urlencoded")
request("forecast-cutoff", POST, "/forecast", '{"cutoff": "2019-12", "h": 60}', type=JSON)
request("forecast-series", POST, "/forecast", compact({"h": 6, "series": points}), type=JSON)
request("forecast-sampler", POST, "/forecast", '{"backend": "sampler", "shots": 64, "noise": "ibm-heron-r2", "h": 3}', type=JSON)
request("forecast-ionq-dry", POST, "/forecast", '{"backend": "ionq", "dry_run": true}', type=JSON)
request("forecast-ionq", POST, "/forecast", '{"backend": "ionq", "device": "simulator", "shots": 1024}', type=JSON)
request("forecast-ibm", POST, "/forecast", '{"backend": "ibm", "device": "ibm_fez", "qubit": 3}', type=JSON)
request("forecast-bad", POST, "/forecast", '{"model":1,"h":1e30}', type=JSON)
request("backtest", POST, "/backtest", '{"n_windows": 12, "step": 6, "h": 24}', type=JSON)
request("backtest-refit", POST, "/backtest", '{"refit": true, "dataset": 1, "epochs": 1, "n_windows": 2}', type=JSON)
request("train", POST, "/models", '{"dataset": 1, "protocol": "live", "seed": 0, %s}' % tiny, type=JSON)
request("dataset-csv", POST, "/datasets", short_csv, type="text/csv", query="name=my-series")
request("dataset-silso", POST, "/datasets", monthly, type="text/plain", query="name=silso-part")
request("dataset-json", POST, "/datasets", compact({"name": "t", "points": points}), type=JSON)
request("import-binary", POST, "/models/import", files["gated-qkan-fwp"], type="application/octet-stream", query="name=tiny")
request("import-json", POST, "/models/import", files["lstm.json"], type=JSON)
request("preflight", OPTIONS, "/forecast", who=AUTH | 4)
request("no-token", POST, "/forecast", '{"h": 3}', who=0)
request("static-index", GET, "/")
request("static-js", GET, "free", suffix="/js/main.js")
request("static-traversal", GET, "free", suffix="/js/../../Makefile")
request("wrong-method", PUT, "/models/{id}")

shutil.rmtree(tmp)
