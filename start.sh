#!/usr/bin/env bash
# Set up (Python venv, UI build) and start LoRA Workbench. Extra arguments go to launcher.py,
# e.g. ./start.sh --headless --open-browser --data-dir ~/lora-data
source "$(dirname "$0")/scripts/common.sh"
ensure_venv requirements.txt
build_ui
exec .venv/bin/python launcher.py "$@"
