#!/usr/bin/env bash
# The project's tests: installs what is missing, then checks formatting, vet
# and runs every Go test (the Keras reference comparisons read testdata/ and,
# where present, ../shared/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -count=1 ./... "$@"
# Under the race detector: Predict from many goroutines on each reference
# model (every layer type, the per-call arenas), and HDF5 reads from many
# goroutines on one file.
go test -count=1 -race -run 'Concurrent' ./hostile/ ./keras/internal/h5/
