#!/usr/bin/env bash
# SPIN checks of the collision-retry models: each model must verify with no error in each of
# its configurations, and each mutant of it must produce a counterexample trail.
# Needs Debian's `spin` and a C compiler (`cc`); installs nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for tool in spin cc; do
  if ! command -v "$tool" >/dev/null; then
    echo "verify: $tool not found (Debian: apt-get install spin gcc)" >&2
    exit 2
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0

# run MODEL EXPECT LABEL [-DNAME...]: EXPECT is `proof` (no error) or `trail` (a counterexample).
run() {
  local model="$1" expect="$2" label="$3"
  shift 3
  local dir="$work/$label"
  mkdir -p "$dir"
  cp "$here/$model" "$dir/"
  local t0 out errors states ms
  t0=$(date +%s%N)
  (cd "$dir" && spin -a "$@" "$model" >/dev/null && cc -O2 -DSAFETY -o pan pan.c)
  out="$(cd "$dir" && ./pan -m100000 2>&1 || true)"
  ms=$((($(date +%s%N) - t0) / 1000000))
  errors=$(echo "$out" | sed -n 's/.*errors: \([0-9]*\).*/\1/p')
  states=$(echo "$out" | sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p')
  if [ "$expect" = proof ]; then
    if [ "$errors" = 0 ]; then
      printf '  %-40s proved: %s states, %d.%d s\n' "$label" "$states" $((ms / 1000)) $((ms % 1000 / 100))
    else
      printf '  %-40s FAILED: %s error(s)\n' "$label" "$errors"
      echo "$out" | grep -E '^pan:' | head -3
      status=1
    fi
  else
    if [ "${errors:-0}" != 0 ] && [ -f "$dir/$model.trail" ]; then
      local what steps
      what=$(echo "$out" | grep -E '^pan:[0-9]+:' | head -1 | sed 's/^pan:[0-9]*: *//')
      steps=$(cd "$dir" && spin -t -p "$@" "$model" 2>/dev/null | grep -cE '^ *[0-9]+:[[:space:]]+proc' || true)
      local keep="$here/trails/${model%.pml}-${label#mutant }.trail"
      mkdir -p "$here/trails"
      cp "$dir/$model.trail" "$keep"
      printf '  %-40s counterexample: %s (a trail of %s steps)\n' "$label" "$what" "$steps"
      printf '      replay: spin -t -k %s -p %s %s\n' "verification/trails/${keep##*/}" "$*" "verification/$model"
      # Its last steps before the failure (the monitor's own steps left out).
      (cd "$dir" && spin -t -p "$@" "$model" 2>/dev/null |
        grep -E '^ *[0-9]+:[[:space:]]+proc +[0-9]+ \((invalidat|nonblock|faulter|owner|vcpu|refresh)[^)]*\) .*\[' |
        tail -5 | sed -E 's/^ *[0-9]+:[[:space:]]+proc +[0-9]+ /      /; s/ \(state [0-9]+\)//' | cut -c1-110)
    else
      printf '  %-40s NOT CAUGHT: the mutant verified\n' "$label"
      status=1
    fi
  fi
}

echo "interval.pml: the interval notifier's collision-retry (2 pages, 2 subscriptions)"
run interval.pml proof "blockable (2 invalidations, insert/remove)"
run interval.pml proof "EAGAIN (a non-blockable start)" -DEAGAIN
for m in NO_READ_RETRY NO_SET_SEQ REMOVE_DURING_WALK SEQ_PER_RANGE WAKE_BEFORE_SEQ; do
  run interval.pml trail "mutant $m" "-D$m"
done
echo "kvm-tracker.pml: KVM's tracker across threads (2 frames, a vCPU, a pfn cache)"
run kvm-tracker.pml proof "2 overlapping invalidations"
for m in LATEST_RANGE COUNT_BEFORE_SEQ; do
  run kvm-tracker.pml trail "mutant $m" "-D$m"
done
exit "$status"
