#!/usr/bin/env bash
# Runs the project's fuzz targets one after another, each for DURATION
# (default 10m), on one core at the lowest priority (nice 19, -parallel 1,
# GOMAXPROCS=1) so benchmarks running alongside are not disturbed, and
# prints per target: time, executions, new interesting inputs, crashes.
#
#   scripts/fuzz.sh                 # every target, 10 minutes each
#   DURATION=30s scripts/fuzz.sh    # a quick pass
#   scripts/fuzz.sh FuzzLoad        # only the targets named
#
# Each new interesting input is minimized for at most MINIMIZE (default 5s;
# with go test's own default, 60s, FuzzLoad ran 1,559 inputs in 10 minutes,
# with 5s 52,865: the rest of the time went to minimizing).
#
# Logs go to $LOGDIR (default /tmp/kerago-fuzz). An input that fails is
# written by go test to <package>/testdata/fuzz/<Target>/ : keep it (it is
# then a regular test case), fix the bug, commit both.
set -uo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10m}
MINIMIZE=${MINIMIZE:-5s}
LOGDIR=${LOGDIR:-/tmp/kerago-fuzz}
mkdir -p "$LOGDIR"

targets=(
  "./keras/ FuzzModelFromJSON"        # model config parser and builder
  "./keras/ FuzzLoad"                 # whole .h5/.keras files: Load, Inspect, Predict
  "./keras/internal/h5/ FuzzOpen"     # HDF5 attributes and datasets
  "./preprocess/ FuzzDecodeImg"       # the image path (DecodeImg, resize)
  "./cmd/vgg16/ FuzzReadInputNpy"     # .npy inputs of vgg16 activations
)

summary=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
    continue
  fi
  log="$LOGDIR/$name.log"
  echo "== $name ($pkg) for $DURATION, log $log"
  start=$(date +%s)
  GOMAXPROCS=1 nice -n 19 go test "$pkg" -run "^$name\$" -fuzz "^$name\$" -fuzztime "$DURATION" -fuzzminimizetime "$MINIMIZE" -parallel 1 >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  last=$(grep -E '^fuzz: elapsed' "$log" | tail -1)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
  newi=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
  crash=$(grep -cE '^--- FAIL|Failing input written' "$log")
  status=ok; [ $rc -ne 0 ] && status="FAILED (rc $rc)"
  line="$name: ${secs}s, execs ${execs:-?}, new interesting ${newi:-?}, failures $crash, $status"
  echo "$line"
  grep -E 'Failing input written|^    [a-z_]+_test.go:' "$log" | head -5
  summary+=("$line")
done
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
