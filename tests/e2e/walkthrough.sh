#!/usr/bin/env bash
# The README's main job without the network: scripts/walkthrough.sh must succeed end to end.
set -euo pipefail
exec "$(dirname "$0")/../../scripts/walkthrough.sh" "$1"
