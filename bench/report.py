#!/usr/bin/env python3
"""report.py RESULTS.jsonl OUT.json SECONDS ROUNDS PINGS: the bench's report.

Reads one JSON object per contender and round (as bench.sh writes them) and
writes, beside OUT.json:
  OUT.json   every run, the medians with min and max, the ratios, the targets
  OUT.md     the same as markdown tables (also printed on stdout)
  OUT.png    a chart of the throughput medians (gnuplot, when installed)

"Best peer" is, for each metric on its own, the best median of openvpn,
wireguard-go and ocserv (highest for rates, lowest for RTT, CPU and RSS).
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

PEERS = ("openvpn", "wireguard-go", "ocserv")
VPND = ("vpnd-tls", "vpnd-dtls")
ORDER = ("plain", "vpnd-tls", "vpnd-dtls", "base-tls", "base-dtls", "ocserv", "openvpn",
         "wireguard-go")

# key, column head, digits, higher is better
METRICS = (
    ("tcp1_up_mbps", "TCP up Mbit/s", 0, True),
    ("tcp1_down_mbps", "TCP down Mbit/s", 0, True),
    ("tcp4_up_mbps", "4 streams Mbit/s", 0, True),
    ("udp64_kpps", "UDP 64 B kpps", 1, True),
    ("udp64_loss_pct", "UDP loss %", 1, False),
    ("rtt_p50_us", "RTT p50 µs", 0, False),
    ("rtt_p99_us", "RTT p99 µs", 0, False),
    ("cpu_s_per_gb", "CPU s/GB", 2, False),
    ("peak_rss_mb", "peak RSS MB", 1, False),
)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summarise(runs):
    """Per metric: median, min, max over the rounds that ran."""
    out = {}
    for key, _, _, _ in METRICS:
        vals = [r[key] for r in runs if r.get(key) is not None]
        if vals:
            out[key] = {"median": statistics.median(vals), "min": min(vals),
                        "max": max(vals), "n": len(vals)}
    return out


def best_peer(summary, key, higher):
    cands = [(summary[p][key]["median"], p) for p in PEERS
             if p in summary and key in summary[p]]
    if not cands:
        return None
    return (max if higher else min)(cands)


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def targets(summary):
    """The issue's targets, each with the value it is judged on."""
    med = lambda n, k: summary.get(n, {}).get(k, {}).get("median")
    bp = lambda k, hi: (best_peer(summary, k, hi) or (None, None))
    rows = []

    def add(what, value, goal, met):
        rows.append({"target": what, "value": value, "goal": goal,
                     "met": None if value is None else met(value)})

    for v, peer_x, plain_x in (("vpnd-tls", 8, 1 / 3), ("vpnd-dtls", 4, 1 / 4)):
        for d in ("up", "down"):
            k = f"tcp1_{d}_mbps"
            add(f"{v} TCP {d} / best peer", ratio(med(v, k), bp(k, True)[0]),
                f">= {peer_x}x", lambda x, g=peer_x: x >= g)
            add(f"{v} TCP {d} / plain", ratio(med(v, k), med("plain", k)),
                f">= {plain_x:.2f}", lambda x, g=plain_x: x >= g)
    for v in VPND:
        add(f"{v} 4 streams / best peer",
            ratio(med(v, "tcp4_up_mbps"), bp("tcp4_up_mbps", True)[0]),
            ">= 4x", lambda x: x >= 4)
        add(f"{v} UDP 64 B / plain",
            ratio(med(v, "udp64_kpps"), med("plain", "udp64_kpps")),
            ">= 0.80", lambda x: x >= 0.8)
        plain_rtt = med("plain", "rtt_p50_us")
        peer_rtt = bp("rtt_p50_us", False)[0]
        added = None
        if med(v, "rtt_p50_us") is not None and plain_rtt is not None and peer_rtt is not None:
            added = ratio(med(v, "rtt_p50_us") - plain_rtt, peer_rtt - plain_rtt)
        add(f"{v} added RTT p50 / best peer's", added, "<= 0.50", lambda x: x <= 0.5)
        add(f"{v} CPU per GB / best peer",
            ratio(med(v, "cpu_s_per_gb"), bp("cpu_s_per_gb", False)[0]),
            "<= 0.50", lambda x: x <= 0.5)
        add(f"{v} peak RSS MB, both ends", med(v, "peak_rss_mb"), "<= 16",
            lambda x: x <= 16)
    return rows


def fmt(v, digits):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def cell(s, digits):
    if s is None:
        return "-"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt(s["median"], digits)
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}-{fmt(s['max'], digits)})"


def markdown(doc):
    s = doc["summary"]
    names = [n for n in ORDER if n in s] + sorted(n for n in s if n not in ORDER)
    lines = [f"Bench of {doc['date']}: {doc['machine']['cores']} cores, "
             f"{doc['machine']['cpu']}, kernel {doc['machine']['kernel']}; "
             f"{doc['rounds']} interleaved rounds of {doc['seconds_per_run']} s runs; "
             "median (min-max).", ""]
    lines.append("| contender | " + " | ".join(h for _, h, _, _ in METRICS) + " |")
    lines.append("| --- |" + " ---: |" * len(METRICS))
    for n in names:
        lines.append(f"| {n} | " + " | ".join(cell(s[n].get(k), d) for k, _, d, _ in METRICS) + " |")
    for n, why in doc["not_run"].items():
        lines.append(f"| {n} | n/a: {why} |" + " |" * (len(METRICS) - 1))
    lines += ["", "Ratios of medians (vpnd / best peer, vpnd / plain forwarding):", "",
              "| metric | best peer | " + " | ".join(f"{v} / peer | {v} / plain" for v in VPND) + " |",
              "| --- | --- |" + " ---: | ---: |" * len(VPND)]
    for k, h, _, _ in METRICS:
        r = doc["ratios"].get(k, {})
        lines.append(f"| {h} | {r.get('best_peer') or '-'} | " + " | ".join(
            f"{fmt(r.get(v + '/peer'), 2)} | {fmt(r.get(v + '/plain'), 2)}" for v in VPND) + " |")
    lines += ["", "Targets:", "", "| target | value | goal | met |", "| --- | ---: | --- | --- |"]
    for t in doc["targets"]:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "no")
        lines.append(f"| {t['target']} | {fmt(t['value'], 2)} | {t['goal']} | {met} |")
    lines += ["", "Notes:", ""]
    for n in names:
        if doc["notes"].get(n):
            lines.append(f"- {n}: {doc['notes'][n]}")
    return "\n".join(lines) + "\n"


def chart(doc, png):
    """Throughput medians as grouped bars, with min-max error bars."""
    gp = shutil.which("gnuplot")
    if gp is None:
        return "gnuplot not installed"
    s = doc["summary"]
    names = [n for n in ORDER if n in s]
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        f.write("# name tcp_up min max tcp_down min max tcp4 min max (Gbit/s)\n")
        for n in names:
            row = [n]
            for k in ("tcp1_up_mbps", "tcp1_down_mbps", "tcp4_up_mbps"):
                m = s[n].get(k, {"median": 0, "min": 0, "max": 0})
                row += [f"{m[x] / 1000:.3f}" for x in ("median", "min", "max")]
            f.write(" ".join(row) + "\n")
    script = f"""set terminal pngcairo size 1000,560 font ",10"
set output "{png}"
set title "One TCP stream up / down and 4 streams, Gbit/s (median, min-max), {doc['rounds']} rounds"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "Gbit/s"
set logscale y
set yrange [0.1:*]
set grid ytics
set key top right
plot "{dat}" using 2:3:4:xtic(1) title "TCP up", \\
     "" using 5:6:7 title "TCP down", \\
     "" using 8:9:10 title "4 streams up"
"""
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    return None if r.returncode == 0 else r.stderr.strip()[:200]


def main():
    src, out = sys.argv[1], sys.argv[2]
    seconds, rounds, pings = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    runs = [json.loads(line) for line in open(src) if line.strip()]
    by = {}
    not_run = {}
    notes = {}
    for r in runs:
        if r.get("status") == "ok":
            by.setdefault(r["name"], []).append(r)
            notes[r["name"]] = r.get("notes", "")
        else:
            not_run.setdefault(r["name"], r.get("reason", ""))
    for n in by:
        not_run.pop(n, None)
    summary = {n: summarise(rs) for n, rs in by.items()}

    ratios = {}
    for k, _, _, hi in METRICS:
        bp = best_peer(summary, k, hi)
        r = {"best_peer": bp[1] if bp else None}
        for v in VPND:
            m = summary.get(v, {}).get(k, {}).get("median")
            r[v + "/peer"] = ratio(m, bp[0] if bp else None)
            r[v + "/plain"] = ratio(m, summary.get("plain", {}).get(k, {}).get("median"))
        ratios[k] = r

    doc = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "rounds": rounds,
        "seconds_per_run": seconds,
        "pings": {"count": pings, "interval_s": 0.005},
        "udp": {"payload_bytes": 64, "rate": "unlimited (iperf3 -b 0)"},
        "summary": summary,
        "ratios": ratios,
        "not_run": not_run,
        "notes": notes,
        "runs": runs,
    }
    doc["targets"] = targets(summary)
    base = out[:-5] if out.endswith(".json") else out
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    md = markdown(doc)
    with open(base + ".md", "w") as f:
        f.write(md)
    why = chart(doc, os.path.abspath(base + ".png"))
    doc["chart"] = None if why else base + ".png"
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print()
    print(md)
    print(f"results: {out}, {base}.md" + (f", {base}.png" if not why else f" (no chart: {why})"))


if __name__ == "__main__":
    main()
