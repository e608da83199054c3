#!/usr/bin/env bash
# Checks that generate.py writes exactly the committed client vectors, so that a case changed by
# hand (and not in the script) is not lost the next time someone regenerates the vectors.
# Usage: check-generated.sh [PYTHON]   (ctest: conformance.client_vectors_generated)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${1:-python3}" "$here/generate.py" "$out" >/dev/null
diff -r -x README.md -x generate.py -x check-generated.sh "$out" "$here"
echo "generate.py reproduces the $(find "$out" -mindepth 1 -maxdepth 1 -type d | wc -l) committed client cases"
