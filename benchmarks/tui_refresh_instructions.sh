#!/bin/bash
# Instructions per refresh on tui_refresh's cluster: callgrind over the refreshes only (load cannot move the count).
# Usage: benchmarks/tui_refresh_instructions.sh new|all [REFRESHES] [DATA_DIR]   (run with PYTHONPATH set to the tree)
# Valgrind runs the whole process, with instrumentation off until tui_refresh_calls.py reaches the counted refreshes.
set -euo pipefail
mode=$1
refreshes=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
marks=$(mktemp -d)
out=$marks/callgrind.out
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    python "$here/tui_refresh_calls.py" --marks "$marks" --only "$mode" --refreshes "$refreshes" ${3:+--dir "$3"} \
    > "$marks/log" 2>&1 &
pid=$!
for mark in on off; do
    while [ ! -e "$marks/$mark" ]; do
        kill -0 "$pid" 2> /dev/null || { cat "$marks/log"; exit 1; }
        sleep 1
    done
    callgrind_control --instr="$mark" "$pid" > /dev/null
    touch "$marks/$mark.ack"
done
wait "$pid"
total=$(callgrind_annotate "$out" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "$mode: $total instructions in $refreshes refreshes, $((total / refreshes)) per refresh"
rm -rf "$marks"
