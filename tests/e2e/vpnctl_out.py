#!/usr/bin/env python3
"""vpnctl_out.py - check what vpnctl prints, for tests/e2e/json.sh.

  vpnctl_out.py valid SCHEMA FILE   FILE is one line of JSON (strict UTF-8)
                                    that the JSON Schema SCHEMA accepts
  vpnctl_out.py table FILE COL...   FILE is a table whose every line has its
                                    columns where the header's start (a
                                    character there, two spaces before), no
                                    trailing blanks; prints COL=cell of row 1
"""
import json, re, sys


def valid(schema_file, doc_file):
    import jsonschema
    schema = json.load(open(schema_file))
    raw = open(doc_file, "rb").read()
    if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
        sys.exit("not one line: %r" % raw)
    doc = json.loads(raw.decode("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


def table(path, cols):
    lines = open(path, encoding="utf-8").read().split("\n")
    if lines[-1] != "":
        sys.exit("no final newline")
    lines = lines[:-1]
    head = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", head)]
    names = head.split()
    if len(starts) != len(names) or len(lines) < 2:
        sys.exit("header %r, %d lines" % (head, len(lines)))
    for line in lines:
        if line != line.rstrip():
            sys.exit("trailing blanks: %r" % line)
        for k, s in enumerate(starts):
            if len(line) <= s or line[s] == " " or (k > 0 and line[s - 2:s] != "  "):
                sys.exit("column %s not at %d in %r" % (names[k], s, line))
    row = lines[1]
    for name in cols:
        k = names.index(name)
        end = starts[k + 1] if k + 1 < len(starts) else len(row)
        print("%s=%s" % (name, row[starts[k]:end].strip()))


if __name__ == "__main__":
    if sys.argv[1] == "valid":
        valid(sys.argv[2], sys.argv[3])
    else:
        table(sys.argv[2], sys.argv[3:])
