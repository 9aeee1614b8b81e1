"""Per operation of the OpenAPI document: the calls schemathesis made and how many got a 2xx.

Reads schemathesis' NDJSON report (every recorded interaction of every phase) and prints one
line per documented operation. Exits 1 when an operation never got a 2xx: its logic behind the
lookup (a grant, a segment, a chunk page) was never reached, which is what scripts/conformance
seeds the vault for.

    python answers.py openapi.yaml report/*.ndjson
"""
import json
import sys
from urllib.parse import urlsplit

import yaml


def operations(document):
    with open(document, encoding="utf-8") as f:
        paths = yaml.safe_load(f)["paths"]
    return [(method.upper(), path) for path, item in paths.items()
            for method in item if method in ("get", "put", "post", "delete", "patch")]


def template_of(path, templates):
    """The documented path template `path` fills in, the most literal one first (as routed)."""
    segments = [s for s in path.split("/") if s]
    best = None
    for template in templates:
        parts = [p for p in template.split("/") if p]
        if len(parts) != len(segments):
            continue
        if all(p.startswith("{") or p == s for p, s in zip(parts, segments)):
            weight = [0 if p.startswith("{") else 1 for p in parts]
            if best is None or weight > best[0]:
                best = (weight, template)
    return best and best[1]


def interactions(value):
    """Every recorded request/response pair, wherever the report nests it."""
    if isinstance(value, dict):
        recorded = value.get("interactions")
        if isinstance(recorded, dict):
            yield from recorded.values()
        for key, item in value.items():
            if key != "interactions":
                yield from interactions(item)
    elif isinstance(value, list):
        for item in value:
            yield from interactions(item)


def main():
    ops = operations(sys.argv[1])
    templates = sorted({path for _, path in ops})
    counts = {op: [0, 0] for op in ops}
    other = 0
    for report in sys.argv[2:]:
        with open(report, encoding="utf-8") as f:
            for line in f:
                for interaction in interactions(json.loads(line)):
                    request, response = interaction.get("request") or {}, interaction.get("response") or {}
                    op = (str(request.get("method", "")).upper(), template_of(urlsplit(request.get("uri", "")).path, templates))
                    if op not in counts:
                        other += 1
                        continue
                    counts[op][0] += 1
                    if 200 <= int(response.get("status_code") or 0) < 300:
                        counts[op][1] += 1
    rest = "(a method the path is not documented with: the 405 checks)"
    width = max([len(f"{m} {p}") for m, p in ops] + [len(rest)])
    print(f"{'operation':<{width}}  {'calls':>6}  {'2xx':>6}")
    for (method, path), (calls, ok) in counts.items():
        print(f"{method + ' ' + path:<{width}}  {calls:>6}  {ok:>6}")
    print(f"{rest:<{width}}  {other:>6}")
    never = [f"{m} {p}" for (m, p), (_, ok) in counts.items() if ok == 0]
    if never:
        print("scripts/conformance: never answered 2xx: " + ", ".join(never), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
