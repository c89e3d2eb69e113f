#!/usr/bin/python3
"""promparse.py - read a Prometheus text exposition on stdin with the
reference parser (python3-prometheus-client) and answer one question.

  promparse.py check NAME...        every sample NAME is there, every family
                                    has HELP and a TYPE, no sample twice
  promparse.py get NAME [K=V ...]   print the value of the one sample NAME
                                    with those labels (exit 1: none)

Any parse error exits 2: the text is not valid exposition format."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def parse(text):
    try:
        fams = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        print("parse error: %s" % e, file=sys.stderr)
        sys.exit(2)
    seen = set()
    for f in fams:
        if f.type == "unknown" or not f.documentation:
            print("family %s: no TYPE or HELP" % f.name, file=sys.stderr)
            sys.exit(2)
        for s in f.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                print("sample %s%s twice" % key, file=sys.stderr)
                sys.exit(2)
            seen.add(key)
    return fams


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        print("no final newline", file=sys.stderr)
        sys.exit(2)
    fams = parse(text)
    samples = [s for f in fams for s in f.samples]
    names = {s.name for s in samples}
    if sys.argv[1] == "check":
        missing = [n for n in sys.argv[2:] if n not in names]
        if missing:
            print("missing: %s" % " ".join(missing), file=sys.stderr)
            sys.exit(1)
        return
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    for s in samples:
        if s.name == sys.argv[2] and all(s.labels.get(k) == v for k, v in want.items()):
            v = s.value
            print(int(v) if v == int(v) else v)
            return
    sys.exit(1)


main()
