#!/usr/bin/env bash
# gen_reference.sh — regenerate the Keras reference data under testdata/ref and testdata/summary.
#
# Usage: scripts/gen_reference.sh [layers|summary]...   (default: both)
#
# Everything is produced by real Keras (tf_keras 2.x as the main reference, Keras 3 for the
# .keras files and the keras3_only cases, the keras 2.6.0 print_summary for classic summaries)
# with fixed seeds; see scripts/keras_ref_layers.py and scripts/keras_ref_summary.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/keras_reference_env.sh
PY="$(scripts/keras_reference_env.sh --python)"

what=("$@")
if [[ ${#what[@]} -eq 0 ]]; then
	what=(layers summary)
fi
for w in "${what[@]}"; do
	case "$w" in
	layers)
		"$PY" scripts/keras_ref_layers.py
		"$PY" scripts/keras_ref_check.py
		;;
	summary) "$PY" scripts/keras_ref_summary.py ;;
	*)
		echo "gen_reference.sh: unknown part $w (want layers or summary)" >&2
		exit 2
		;;
	esac
done
du -sh testdata/ref testdata/summary 2>/dev/null || true
