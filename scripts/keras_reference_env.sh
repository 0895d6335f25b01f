#!/usr/bin/env bash
# keras_reference_env.sh — make sure a Python with the real Keras stack exists, print its versions.
#
# Usage:
#   scripts/keras_reference_env.sh            install what is missing, print versions
#   scripts/keras_reference_env.sh --python   same, but print only the interpreter path on stdout
#                                             (progress goes to stderr); used by gen_reference.sh
#
# Needed modules: tensorflow (tensorflow-cpu), keras (3.x), tf_keras, h5py, PIL (pillow), numpy.
# Interpreter choice, first that has all modules wins (nothing is installed in that case):
#   1. $KERAS_REF_PYTHON, if set;
#   2. .venv/bin/python in the repository (git-ignored);
#   3. python3 on PATH.
# Otherwise a venv is created at .venv (apt-get installs python3-venv when run as root and the
# venv module is missing) and the packages are pip-installed into it; if no venv can be made,
# they are pip-installed for the current user (--user, plus --break-system-packages where pip
# needs it on Debian's externally-managed Python). Safe to run repeatedly.
# $KERAS_REF_PACKAGES overrides the package list (e.g. to pin versions).
# The keras==2.6.0 wheel used for the classic summary text is fetched later, on first use, by
# scripts/keras_ref_common.py into .venv/keras-2.6.0/ (sha256 checked).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PACKAGES="${KERAS_REF_PACKAGES:-tensorflow-cpu keras tf-keras h5py pillow numpy}"
MODE="${1:-}"

log() { echo "keras_reference_env: $*" >&2; }

has_modules() {
	"$1" - <<'EOF' >/dev/null 2>&1
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy, h5py, PIL, tensorflow, tf_keras, keras
assert keras.__version__.startswith("3"), keras.__version__
EOF
}

pick() {
	local c
	for c in "${KERAS_REF_PYTHON:-}" "$VENV/bin/python" "$(command -v python3 || true)"; do
		if [[ -n "$c" && -x "$c" ]] && has_modules "$c"; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

install() {
	local py3
	py3="$(command -v python3 || true)"
	if [[ -z "$py3" ]]; then
		log "python3 not found; install it (e.g. apt-get install -y python3 python3-pip python3-venv)"
		exit 1
	fi
	if [[ ! -x "$VENV/bin/python" ]]; then
		if ! "$py3" -m venv "$VENV" >&2 2>&1; then
			rm -rf "$VENV/bin" "$VENV/lib" "$VENV/include" "$VENV/pyvenv.cfg"
			if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
				local pyver
				pyver="$("$py3" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
				log "python3 -m venv failed; installing python3-venv with apt-get"
				apt-get update -qq >&2 || true
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python${pyver}-venv" >&2 ||
					DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 || true
				"$py3" -m venv "$VENV" >&2 2>&1 || rm -rf "$VENV/bin" "$VENV/lib" "$VENV/include" "$VENV/pyvenv.cfg"
			fi
		fi
	fi
	if [[ -x "$VENV/bin/python" ]]; then
		log "pip install into $VENV: $PACKAGES"
		"$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || true
		# shellcheck disable=SC2086
		"$VENV/bin/python" -m pip install --quiet $PACKAGES >&2
		return 0
	fi
	log "no venv possible; pip install --user: $PACKAGES"
	local extra=""
	if "$py3" -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
		extra="--break-system-packages"
	fi
	# shellcheck disable=SC2086
	"$py3" -m pip install --quiet --user $extra $PACKAGES >&2
}

PY="$(pick || true)"
if [[ -z "$PY" ]]; then
	install
	PY="$(pick || true)"
	if [[ -z "$PY" ]]; then
		log "installation finished but tensorflow/tf_keras/keras 3/h5py/pillow/numpy still do not import"
		exit 1
	fi
fi

if [[ "$MODE" == "--python" ]]; then
	echo "$PY"
	exit 0
fi

echo "python: $PY"
"$PY" - <<'EOF' 2>/dev/null
import os, platform
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy, h5py, PIL, tensorflow, tf_keras, keras
print("python", platform.python_version())
print("numpy", numpy.__version__)
print("tensorflow", tensorflow.__version__)
print("tf_keras", tf_keras.__version__)
print("keras", keras.__version__)
print("h5py", h5py.__version__)
print("pillow", PIL.__version__)
EOF
