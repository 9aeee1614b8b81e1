#!/usr/bin/env python3
"""Runs the committed standard modules under wasmtime and checks them against a plain Python
reimplementation of Modules/README.md's definitions: hand-made edge cases (empty input, header
only, non-numeric values, a line over the limit, malformed JSON, disorder, bad params) and
random inputs compared byte for byte. Optional tooling, not part of scripts/test; needs only
python3 and the `wasmtime` package:

    python3 -m venv /tmp/wt && /tmp/wt/bin/pip install wasmtime && /tmp/wt/bin/python Modules/check.py
"""
import json
import math
import os
import random
import sys
import tempfile

import wasmtime

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = wasmtime.Engine()
MODULES = {}
FAILURES = []


def run(name, stdin):
    """(exit status, stdout, stderr) of Modules/<name>.wasm (or of the file `name` when it ends
    in .wasm) with `stdin` (bytes or str)."""
    if name not in MODULES:
        path = name if name.endswith(".wasm") else os.path.join(HERE, name + ".wasm")
        MODULES[name] = wasmtime.Module.from_file(ENGINE, path)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    store = wasmtime.Store(ENGINE)
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, x) for x in ("in", "out", "err")]
        with open(paths[0], "wb") as f:
            f.write(stdin)
        config = wasmtime.WasiConfig()  # no args, no environment, no directories
        config.stdin_file, config.stdout_file, config.stderr_file = paths
        store.set_wasi(config)
        instance = linker.instantiate(store, MODULES[name])
        status = 0
        try:
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            status = e.code
        with open(paths[1], "rb") as f:
            out = f.read()
        with open(paths[2], "rb") as f:
            err = f.read()
    return status, out, err


# ---- the reference: Modules/README.md's definitions, in plain Python ----

def fmt(x):
    return "%.17g" % x if math.isfinite(x) else "null"


def jstr(s):
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return "".join(out) + '"'


def numeric(v):
    """The reading's value as a double, or None when it is not a number a double can hold."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        d = float(v)
    except OverflowError:
        return None
    return d if math.isfinite(d) else None


def total_order(v):
    return (v, math.copysign(1.0, v))  # -0 before +0


def permille(stat):
    return round(float(stat[1:]) * 1000)


def ref_aggregate(header, readings):
    params = header.get("params") or {}
    window = params.get("window", 0)
    stats = params.get("stats", ["count", "sum", "mean", "min", "max"])
    groups = []  # [stream, from, to, values, skipped] in input order
    for r in readings:
        if window:
            start = (r["t"] // (window * 1000)) * window * 1000
            lo, hi = start, start + window * 1000
        else:
            lo, hi = header["from"], header["to"]
        if not groups or groups[-1][0] != r["stream"] or groups[-1][1] != lo:
            groups.append([r["stream"], lo, hi, [], 0])
        v = numeric(r["v"])
        if v is None:
            groups[-1][4] += 1
        else:
            groups[-1][3].append(v)
    rows = []
    for stream, lo, hi, values, skipped in groups:
        n = len(values)
        if n == 0:
            continue
        total = 0.0
        for v in values:
            total += v  # plain double addition, in input order
        ordered = sorted(values, key=total_order)
        row = '{"stream":%s,"from":%d,"to":%d,"count":%d,"skipped":%d' % (jstr(stream), lo, hi, n, skipped)
        for s in stats:
            if s in ("count", "skipped"):
                continue
            if s == "sum":
                x = total
            elif s == "mean":
                x = total / n
            elif s == "min":
                x = ordered[0]
            elif s == "max":
                x = ordered[-1]
            else:
                rank = max(1, -(-permille(s) * n // 100000))  # ceil(q·n), at least 1
                x = ordered[rank - 1]
            row += ',"%s":%s' % (s, fmt(x))
        rows.append(row + "}")
    return '{"type":"edgevault.aggregate/v1","window":%d,"results":[%s]}\n' % (window, ",".join(rows))


def ref_linreg(header, readings):
    p = header["params"]
    w = [float(x) for x in p["weights"]]
    features, target, lr, epochs = p["features"], p["target"], float(p["learningRate"]), p["epochs"]
    latest = {}  # stream -> {t: value or None}, the last reading at each t
    for r in readings:
        latest.setdefault(r["stream"], {})[r["t"]] = numeric(r["v"])
    cols = [target] + features
    times = sorted(t for t, v in latest.get(target, {}).items()
                   if v is not None and all(latest.get(s, {}).get(t) is not None for s in cols))
    X = [[latest[s][t] for s in features] for t in times]
    Y = [latest[target][t] for t in times]

    def predict(x):
        pred = w[0]
        for i, xi in enumerate(x):
            pred += w[i + 1] * xi
        return pred

    def mse():
        total = 0.0
        for x, y in zip(X, Y):
            e = predict(x) - y
            total += e * e
        return total / len(X)

    n = len(times)
    before = mse() if n else None
    for _ in range(epochs if n else 0):
        for x, y in zip(X, Y):
            g = lr * (predict(x) - y)
            w[0] = w[0] - g
            for i, xi in enumerate(x):
                w[i + 1] = w[i + 1] - g * xi
    after = mse() if n else None
    return '{"type":"edgevault.linreg-update/v1","weights":[%s],"samples":%d,"lossBefore":%s,"lossAfter":%s}\n' % (
        ",".join(fmt(x) for x in w), n, "null" if before is None else fmt(before), "null" if after is None else fmt(after))


# ---- cases ----

def header(params, streams, lo=0, hi=10**13, **extra):
    h = {"type": "edgevault.job-input/v1", "grant": "g-1", "params": params, "streams": streams, "from": lo, "to": hi}
    h.update(extra)
    return h


def stdin_of(h, readings):
    return "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in [h] + readings)


def expect_same(label, name, h, readings, ref):
    status, out, err = run(name, stdin_of(h, readings))
    want = ref(h, readings)
    if status != 0 or out.decode() != want:
        FAILURES.append("%s: status %d, stderr %r\n  got  %r\n  want %r" % (label, status, err.decode(), out.decode(), want))


def expect_error(label, name, stdin, status_wanted, message):
    status, out, err = run(name, stdin)
    err = err.decode("utf-8", "replace")
    if status != status_wanted or message not in err:
        FAILURES.append("%s: wanted status %d and %r on stderr, got %d and %r" % (label, status_wanted, message, status, err))


def R(stream, t, v):
    return {"stream": stream, "t": t, "v": v}


AGG = {"stats": ["count", "sum", "mean", "min", "max", "p0", "p50", "p90", "p99", "p99.9", "p100"]}
H3 = header(AGG, ["a", "b/c", "d"])


def hand_cases():
    agg, lin = "aggregate", "linreg-sgd"
    # Empty input, header only (with and without its newline), blank lines, CRLF.
    for m in (agg, lin):
        expect_error(m + " empty stdin", m, "", 2, "stdin is empty")
    expect_same("aggregate header only", agg, H3, [], ref_aggregate)
    s, out, _ = run(agg, json.dumps(H3))
    if s != 0 or out.decode() != ref_aggregate(H3, []):
        FAILURES.append("aggregate header without newline: %d %r" % (s, out))
    s, out, _ = run(agg, stdin_of(H3, [R("a", 5, 1)]).replace("\n", "\r\n") + "\n\n")
    if s != 0 or out.decode() != ref_aggregate(H3, [R("a", 5, 1)]):
        FAILURES.append("aggregate CRLF and blank lines: %d %r" % (s, out))
    # Defaults: params null or absent.
    for hp in (header(None, ["a"]), {k: v for k, v in header(None, ["a"]).items() if k != "params"}):
        status, out, err = run(agg, stdin_of(hp, [R("a", 1, 2), R("a", 2, 4)]))
        want = ref_aggregate(dict(hp, params=None), [R("a", 1, 2), R("a", 2, 4)])
        if status != 0 or out.decode() != want:
            FAILURES.append("aggregate default params: %d %r %r" % (status, out, err))
    # Non-numeric values: skipped; a window with none numeric: no row; 1e999 is no double.
    odd = [R("a", 1, "x"), R("a", 2, None), R("a", 3, True), R("a", 4, {"k": [1, 2]}), R("a", 5, [1]),
           R("a", 6, 2.5), R("b/c", 7, "only strings"), R("d", 8, -0.0), R("d", 9, 0.0), R("d", 10, -0.0)]
    expect_same("aggregate non-numeric", agg, H3, odd, ref_aggregate)
    s, out, _ = run(agg, stdin_of(H3, []).rstrip("\n") + '\n{"stream":"a","t":1,"v":1e999}\n{"stream":"a","t":2,"v":-1e400}\n{"stream":"a","t":3,"v":7}\n')
    if s != 0 or b'"count":1,"skipped":2' not in out:
        FAILURES.append("aggregate 1e999 skipped: %d %r" % (s, out))
    # Three streams and windows, negative times, a window that straddles the range's ends.
    rs = [R("a", t, t % 7 - 3.25) for t in range(-130000, 250000, 9973)] + \
         [R("b/c", t, t / 1000) for t in range(0, 600000, 55555)] + [R("d", 59999, 1), R("d", 60000, 2)]
    for wsec in (0, 1, 60, 3600):
        h = header(dict(AGG, window=wsec), ["a", "b/c", "d"], -200000, 700000)
        expect_same("aggregate window %d" % wsec, agg, h, rs, ref_aggregate)
    # Several chunks of values (8192 each) merged for the quantiles, with many equal values and zeros.
    many = [R("a", t, [-0.0, 0.0, 1.5, -2.0][t % 4] if t % 3 else (t * 7919) % 10007 / 7) for t in range(30000)]
    expect_same("aggregate 30000 values", agg, header(dict(AGG, stats=AGG["stats"] + ["p25", "p75", "p0.001"]), ["a"]),
                many, ref_aggregate)
    # The sum overflows: sum and mean are null, the rest stays.
    expect_same("aggregate overflow", agg, H3, [R("a", 1, 1.7e308), R("a", 2, 1.7e308)], ref_aggregate)
    # Unknown header and reading members are ignored; an exact 1 MiB line is read, one byte more is refused.
    h = header(AGG, ["a"], future={"x": [1, 2]})
    expect_same("aggregate unknown members", agg, h, [dict(R("a", 1, 1), note="n")], ref_aggregate)
    line = '{"stream":"a","t":1,"v":"%s"}'
    pad = (1 << 20) - len(line % "")
    s, out, err = run(agg, stdin_of(H3, []) + line % ("x" * pad) + "\n")
    if s != 0 or b'"results":[]' not in out:
        FAILURES.append("aggregate 1 MiB line: %d %r" % (s, err))
    expect_error("aggregate huge line", agg, stdin_of(H3, []) + line % ("x" * (pad + 1)) + "\n", 2, "longer than 1048576 bytes")
    expect_error("aggregate huge line, no newline", agg, stdin_of(H3, []) + "x" * (3 << 20), 2, "longer than")
    # Malformed JSON: every one exits 2 with a message, none crashes.
    hdr = stdin_of(H3, [])
    bad = {
        "truncated": '{"stream":"a","t":1,"v":1', "trailing comma": '{"stream":"a","t":1,"v":1,}',
        "single quotes": "{'stream':'a','t':1,'v':1}", "NaN": '{"stream":"a","t":1,"v":NaN}',
        "leading zero": '{"stream":"a","t":01,"v":1}', "bare dot": '{"stream":"a","t":1,"v":1.}',
        "plus": '{"stream":"a","t":1,"v":+1}', "hex": '{"stream":"a","t":1,"v":0x10}',
        "two values": '{"stream":"a","t":1,"v":1} {}', "array line": "[1,2]",
        "control char": '{"stream":"a","t":1,"v":"a\tb"}', "bad escape": '{"stream":"a","t":1,"v":"\\x"}',
        "lone surrogate": '{"stream":"a","t":1,"v":"\\udc00"}', "half pair": '{"stream":"a","t":1,"v":"\\ud800x"}',
        "deep": '{"stream":"a","t":1,"v":' + "[" * 100 + "]" * 100 + "}",
        "very deep": '{"stream":"a","t":1,"v":' + "[" * 500000, "missing v": '{"stream":"a","t":1}',
        "fraction t": '{"stream":"a","t":1.5,"v":1}', "string t": '{"stream":"a","t":"1","v":1}',
        "huge t": '{"stream":"a","t":9007199254740992,"v":1}', "twice": '{"stream":"a","t":1,"t":2,"v":1}',
        "unknown stream": '{"stream":"zz","t":1,"v":1}', "NUL": '{"stream":"a","t":1,"v":1}\x00',
        "stream U+0000": '{"stream":"a\\u0000","t":1,"v":1}', "garbage": "\x01\x02",
    }
    for label, text in bad.items():
        expect_error("aggregate malformed: " + label, agg, hdr + text + "\n", 2, "aggregate: ")
    for label, raw in {"overlong": b'\xc0\xaf', "surrogate": b'\xed\xa0\x80', "too high": b'\xf4\x90\x80\x80',
                       "truncated": b'\xe2\x82', "stray continuation": b'\x80'}.items():
        expect_error("aggregate invalid UTF-8: " + label, agg, hdr.encode() + b'{"stream":"a","t":1,"v":"' + raw + b'"}\n', 2, "UTF-8")
    ok = '{"stream":"a","t":1,"v":' + "[" * 60 + "]" * 60 + '}\n{"stream":"a","t":2,"v":"\\ud83d\\ude00 \\u00e9 \xe2\x82\xac"}\n{"stream":"a","t":3,"v":1}\n'
    s, out, err = run(agg, hdr + ok)
    if s != 0 or b'"skipped":2' not in out:
        FAILURES.append("aggregate nested and unicode v: %d %r" % (s, err))
    # Order and range.
    expect_error("aggregate t disorder", agg, stdin_of(H3, [R("a", 2, 1), R("a", 1, 1)]), 2, "not ordered by t")
    expect_error("aggregate stream disorder", agg, stdin_of(H3, [R("b/c", 1, 1), R("a", 1, 1)]), 2, "not ordered by stream")
    expect_error("aggregate stream returns", agg, stdin_of(H3, [R("a", 1, 1), R("b/c", 1, 1), R("a", 2, 1)]), 2, "not ordered by stream")
    expect_error("aggregate t at to", agg, stdin_of(header(AGG, ["a"], 0, 10), [R("a", 10, 1)]), 2, "outside the job's range")
    expect_error("aggregate t before from", agg, stdin_of(header(AGG, ["a"], 5, 10), [R("a", 4, 1)]), 2, "outside the job's range")
    # The header.
    expect_error("header type", agg, stdin_of(dict(H3, type="other/v1"), []), 2, "this module reads edgevault.job-input/v1")
    expect_error("header missing", agg, '{"stream":"a","t":1,"v":1}\n', 2, "not the job-input header")
    expect_error("header from>to", agg, stdin_of(header(AGG, ["a"], 10, 5), []), 2, "is after its to")
    expect_error("header dup stream", agg, stdin_of(header(AGG, ["a", "a"]), []), 2, "twice")
    expect_error("header streams type", agg, stdin_of(header(AGG, "a"), []), 2, "must be an array")
    # aggregate's params.
    for label, params, msg in [
            ("unknown stat", {"stats": ["median"]}, "unknown stat"), ("p101", {"stats": ["p101"]}, "unknown stat"),
            ("p50.0", {"stats": ["p50.0"]}, "unknown stat"), ("p05", {"stats": ["p05"]}, "unknown stat"),
            ("p99.9999", {"stats": ["p99.9999"]}, "unknown stat"), ("dup", {"stats": ["sum", "sum"]}, "twice"),
            ("empty stats", {"stats": []}, "is empty"), ("negative window", {"window": -1}, "integer from 0"),
            ("fraction window", {"window": 1.5}, "integer from 0"), ("unknown key", {"windows": 60}, "unknown member"),
            ("not object", [1], "params must be an object")]:
        expect_error("aggregate params " + label, agg, stdin_of(header(params, ["a"]), []), 2, msg)
    h = header({"stats": ["p0", "p1", "p33.333", "p50", "p66.7", "p99.99", "p100", "count", "skipped"], "window": 1e1}, ["a"])
    expect_same("aggregate quantile names", agg, dict(h, params=dict(h["params"], window=10)),
                [R("a", t, (t * 7919) % 101 / 3) for t in range(1, 300)], ref_aggregate)

    # linreg-sgd.
    P = {"weights": [0.5, -1, 2], "features": ["x1", "x2"], "target": "y", "learningRate": 0.001, "epochs": 7}
    HL = header(P, ["x1", "x2", "y", "other"])
    data = [R("other", t, 1) for t in range(3)] + [R("x1", t, t * 0.5) for t in range(0, 40)] + \
        [R("x2", t, (t % 5) - 2.0) for t in range(0, 40, 2)] + [R("y", t, 3 + t * 0.25) for t in range(1, 40)]
    data.sort(key=lambda r: (r["stream"].encode(), r["t"]))
    expect_same("linreg basic", lin, HL, data, ref_linreg)
    expect_same("linreg header only", lin, HL, [], ref_linreg)
    expect_same("linreg no common t", lin, HL, [R("x1", 1, 1), R("x2", 2, 1), R("y", 3, 1)], ref_linreg)
    dup = [R("x1", 1, 1), R("x1", 1, 2), R("x1", 2, 3), R("x1", 2, "nan"), R("x2", 1, 1), R("x2", 2, 1),
           R("y", 1, 5), R("y", 2, 6), R("y", 3, 7)]
    expect_same("linreg same t: the last counts", lin, HL, dup, ref_linreg)
    expect_same("linreg no features", lin, header(dict(P, weights=[1], features=[]), ["y"]), [R("y", t, t) for t in range(9)], ref_linreg)
    expect_same("linreg target is a feature", lin, header(dict(P, features=["y", "y"]), ["y"]), [R("y", t, t) for t in range(9)], ref_linreg)
    expect_same("linreg learning rate 0", lin, header(dict(P, learningRate=0), ["x1", "x2", "y"]), data[3:], ref_linreg)
    expect_error("linreg diverges", lin, stdin_of(header(dict(P, learningRate=1e6, epochs=1000), ["x1", "x2", "y"]), data[3:]), 1, "diverged")
    for label, params, msg in [
            ("null", None, "params must be an object"), ("missing", {"weights": [1]}, "params needs"),
            ("length", dict(P, weights=[1, 2]), "it needs 3"), ("epochs 0", dict(P, epochs=0), "from 1 to 10000"),
            ("epochs big", dict(P, epochs=10001), "from 1 to 10000"), ("lr negative", dict(P, learningRate=-1), ">= 0"),
            ("lr string", dict(P, learningRate="0.1"), "must be a number"), ("weight string", dict(P, weights=[1, "2", 3]), "array of numbers"),
            ("65 features", dict(P, features=["x1"] * 65, weights=[0] * 66), "more than 6"),
            ("unknown stream", dict(P, target="nope"), "not one of the job's streams"), ("unknown key", dict(P, lr=1), "unknown member")]:
        expect_error("linreg params " + label, lin, stdin_of(header(params, ["x1", "x2", "y"]), []), 2, msg)
    s, out, err = run(lin, stdin_of(header(dict(P, features=["x1"] * 64, weights=[0.01] * 65), ["x1", "y"]),
                                    [R("x1", t, 0.1) for t in range(5)] + [R("y", t, 1) for t in range(5)]))
    if s != 0:
        FAILURES.append("linreg 64 features: %d %r" % (s, err))


def random_cases(rng, count):
    for case in range(count):
        names = sorted(rng.sample(["a", "a/b", "b", "home/t", "z.1", "Q"], rng.randint(1, 4)), key=str.encode)
        lo = rng.randint(-10**6, 10**6)
        hi = lo + rng.randint(0, 10**7)
        readings = []
        for s in names:
            if hi == lo:
                break
            ts = sorted(rng.randint(lo, hi - 1) for _ in range(rng.randint(0, 60)))
            for t in ts:
                kind = rng.random()
                v = (rng.uniform(-1e3, 1e3) if kind < 0.6 else rng.randint(-5, 5) if kind < 0.8
                     else rng.choice([None, "s", True, [1], {"a": 1}, -0.0, 1e300, 5e-324]))
                readings.append(R(s, t, v))
        stats = rng.sample(["count", "sum", "mean", "min", "max", "p0", "p25", "p50", "p75", "p90", "p99", "p99.9", "p100", "p7", "p12.5"],
                           rng.randint(1, 8))
        window = rng.choice([0, 0, 1, 7, 60, 3600])
        expect_same("aggregate random %d" % case, "aggregate", header({"stats": stats, "window": window}, names, lo, hi),
                    readings, ref_aggregate)
    for case in range(count):
        d = rng.randint(0, 4)
        feats = ["f%d" % i for i in range(d)]
        streams = sorted(feats + ["y", "noise"], key=str.encode)
        readings = []
        for s in streams:
            for t in sorted(rng.sample(range(0, 200), rng.randint(0, 120))):
                readings.append(R(s, t, rng.uniform(-2, 2) if rng.random() < 0.95 else "x"))
                if rng.random() < 0.05:
                    readings.append(R(s, t, rng.uniform(-2, 2)))
        params = {"weights": [rng.uniform(-1, 1) for _ in range(d + 1)], "features": feats, "target": "y",
                  "learningRate": rng.choice([0.001, 0.01, 0.05]), "epochs": rng.randint(1, 20)}
        expect_same("linreg random %d" % case, "linreg-sgd", header(params, streams, 0, 200), readings, ref_linreg)


def main():
    hand_cases()
    random_cases(random.Random(19), 150)
    for f in FAILURES:
        print("FAIL", f, file=sys.stderr)
    if FAILURES:
        print("%d failures" % len(FAILURES), file=sys.stderr)
        sys.exit(1)
    print("Modules/check.py: all cases agree with the reference")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        status, out, err = run(sys.argv[2], sys.stdin.buffer.read())
        sys.stdout.buffer.write(out)
        sys.stderr.buffer.write(err)
        sys.exit(status)
    if len(sys.argv) != 1:
        sys.exit("usage: check.py            (check the standard modules)\n"
                 "       check.py run FILE.wasm < job.jsonl")
    main()
