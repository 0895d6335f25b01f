#!/usr/bin/env python3
"""Run the Go VGG16 forward pass (`vgg16 bench`) and PyTorch's
(scripts/bench_torch.py) side by side and print both, their ratio and each
one's peak RSS. Called by scripts/bench-vs-pytorch.sh, which builds the Go
binary and finds a Python with torch.

The machine may be shared and noisy, so the two are measured in the same
run, interleaved: for each batch size, PyTorch's configurations are first
screened once each (fresh process each) to pick its fastest, then --rounds
rounds run Go and that PyTorch configuration one after the other (in
alternating order). Each process does --repeat timed passes after warm-up
and reports its best; the table gives, per implementation, the best over
rounds (and the median of the rounds' bests). Ratios are Go / PyTorch of
those bests: on a shared machine the best of several interleaved runs is
the figure least disturbed by the neighbours.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

TORCH_CONFIGS = ["eager", "channels_last", "mkldnn", "jit", "jit_cl"]


def run_json(cmd, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    line = [l for l in p.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def go_cmd(a, batch, extra=()):
    return [a.go_bin, "bench", "--json", "--batch", str(batch), "--repeat", str(a.repeat),
            "--warmup", str(a.warmup), *extra]


def torch_cmd(a, batch, config):
    here = os.path.dirname(os.path.abspath(__file__))
    return [a.python, os.path.join(here, "bench_torch.py"), "--config", config, "--batch", str(batch),
            "--threads", str(a.threads), "--repeat", str(a.repeat), "--warmup", str(max(a.warmup, 3))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go-bin", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--weights", default="", help="a VGG16 weights file (with top) to time loading")
    ap.add_argument("--go-variants", action="store_true",
                    help="also run Go with OpenBLAS threading each call (OPENBLAS_NUM_THREADS=threads)")
    ap.add_argument("--json-out", default="")
    a = ap.parse_args()

    go_env = {"GOMAXPROCS": str(a.threads)}
    variants = [("go", go_env)]
    if a.go_variants:
        variants.append((f"go, OPENBLAS_NUM_THREADS={a.threads}",
                         {**go_env, "OPENBLAS_NUM_THREADS": str(a.threads)}))
    summary = {"threads": a.threads, "batches": {}}
    for batch in [int(b) for b in a.batches.split(",")]:
        print(f"\n== batch {batch}: screening PyTorch configurations ({a.threads} threads)", flush=True)
        screen = {}
        for cfg in TORCH_CONFIGS:
            r = run_json(torch_cmd(a, batch, cfg))
            screen[cfg] = r
            print(f"   pytorch {cfg:14s} {r['ms_per_image']:8.1f} ms/image  peak RSS {r['peak_rss_mib']:6.0f} MiB", flush=True)
        best_cfg = min(screen, key=lambda c: screen[c]["ms_per_image"])
        print(f"   fastest: {best_cfg}; now {a.rounds} interleaved rounds", flush=True)
        runs = {name: [] for name, _ in variants}
        runs["pytorch " + best_cfg] = []
        jobs = [(name, go_cmd(a, batch), env) for name, env in variants]
        jobs.append(("pytorch " + best_cfg, torch_cmd(a, batch, best_cfg), None))
        for rnd in range(a.rounds):
            # Alternate who goes first, so neither always runs right after
            # the other (page cache, CPU frequency, a neighbour's burst).
            for name, cmd, env in (jobs if rnd % 2 == 0 else jobs[::-1]):
                r = run_json(cmd, env)
                runs[name].append(r)
                print(f"   round {rnd + 1} {name:34s} {r['ms_per_image']:8.1f} ms/image", flush=True)

        rows = {}
        for name, rs in runs.items():
            bests = [r["ms_per_image"] for r in rs]
            rows[name] = {"best": min(bests), "median": statistics.median(bests),
                          "peak_rss_mib": max(r["peak_rss_mib"] for r in rs)}
        torch_best = rows["pytorch " + best_cfg]["best"]
        print(f"\n   batch {batch}{'':27s} best ms/image  median  peak RSS MiB  time vs PyTorch  throughput vs PyTorch")
        for name, row in rows.items():
            ratio = row["best"] / torch_best
            print(f"   {name:34s} {row['best']:10.1f} {row['median']:9.1f} {row['peak_rss_mib']:10.0f}"
                  f"       {ratio:6.2f}x          {1 / ratio:6.2f}x")
        summary["batches"][batch] = {"pytorch_config": best_cfg, "rows": rows,
                                     "pytorch_screen": {c: screen[c]["ms_per_image"] for c in screen},
                                     "go_over_pytorch": rows["go"]["best"] / torch_best,
                                     "torch_version": screen[best_cfg]["torch"],
                                     "go_backend": runs["go"][0]["backend"]}

    if a.weights:
        print(f"\n== loading {a.weights} and predicting (batch 1), {a.rounds} processes", flush=True)
        rs = [run_json(go_cmd(a, 1, ("--weights", a.weights)), go_env) for _ in range(a.rounds)]
        loads = [r["load_s"] for r in rs]
        r = min(rs, key=lambda r: r["load_s"])
        print(f"   load {min(loads):.3f} s best, {statistics.median(loads):.3f} s median (file in the page cache);"
              f" {min(x['ms_per_image'] for x in rs):.1f} ms/image;"
              f" peak RSS {max(x['peak_rss_mib'] for x in rs):.0f} MiB"
              f" = {max(x['peak_rss_over_weights'] for x in rs):.2f} x the weights ({r['weight_bytes'] / 1e6:.1f} MB)")
        summary["load"] = {"runs": rs, "best_load_s": min(loads), "median_load_s": statistics.median(loads)}
    print(f"\nGo: {summary['batches'][next(iter(summary['batches']))]['go_backend']}; "
          f"PyTorch {summary['batches'][next(iter(summary['batches']))]['torch_version']} ({a.python})")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
