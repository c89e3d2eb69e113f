#!/usr/bin/env python3
"""report.py RESULTS.jsonl OUT.json SECONDS: the bench's table and ratios.

Reads one JSON object per contender (as bench.sh writes them), prints a
table and the vpnd / best-peer ratios, and writes everything to OUT.json.
"Best peer" is, for each direction on its own, the fastest of openvpn,
wireguard-go and ocserv that ran.
"""
import json
import os
import platform
import sys
import time

PEERS = ("openvpn", "wireguard-go", "ocserv")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(v, digits):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    src, out, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rows = [json.loads(line) for line in open(src) if line.strip()]
    ok = {r["name"]: r for r in rows if r.get("status") == "ok"}

    ratios = {}
    for d in ("up", "down"):
        key = f"{d}_gbps"
        peers = [(ok[p][key], p) for p in PEERS if p in ok]
        best = max(peers) if peers else None
        ratios[f"best_peer_{d}"] = best[1] if best else None
        for v in ("vpnd-dtls", "vpnd-tls"):
            r = None
            if best and v in ok and best[0] > 0:
                r = ok[v][key] / best[0]
            ratios[f"{v}/best_{d}"] = r

    head = (f"{'contender':<14} {'up Gbit/s':>10} {'down Gbit/s':>12} {'rtt ms':>8} "
            f"{'srv RSS MB':>11} {'srv CPU s/GB':>13}  notes")
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        if r.get("status") != "ok":
            print(f"{r['name']:<14} n/a ({r.get('reason', '')})")
            continue
        print(f"{r['name']:<14} {fmt(r['up_gbps'], 3):>10} {fmt(r['down_gbps'], 3):>12} "
              f"{fmt(r['rtt_ms'], 3):>8} {fmt(r.get('server_rss_mb'), 1):>11} "
              f"{fmt(r.get('server_cpu_s_per_gb'), 2):>13}  {r.get('notes', '')}")
    print()
    parts = []
    for v in ("vpnd-dtls", "vpnd-tls"):
        for d in ("up", "down"):
            x = ratios[f"{v}/best_{d}"]
            best = ratios[f"best_peer_{d}"]
            parts.append(f"{v}/best {d} = {fmt(x, 2)}" + (f" ({best})" if best else " (no peer ran)"))
    print("ratios: " + ", ".join(parts))

    doc = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "seconds_per_direction": seconds,
        "streams": 1,
        "pings": {"count": 20, "interval_s": 0.05},
        "contenders": rows,
        "ratios": ratios,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
