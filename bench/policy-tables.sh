#!/usr/bin/env bash
# Reproduces the "Measured" tables of docs/policies/pdpilot.md: goodput of
# every policy per trace, and length-aware vs shortest-queue prefill routing.
# Usage: bench/policy-tables.sh [OUT_DIR] (default bench/out); GPUS="8 16" to
# change the pools, ATTAINMENT=0.99 for the stricter target.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out}
gpus_list=${GPUS:-8}
attainment=${ATTAINMENT:-0.9}
profile=profiles/opt-13b-tp1-a100.json
slo=(--slo-ttft 1 --slo-tpot 0.1 --attainment "$attainment")
policies=static-best,reactive,dynamo-sla,dopd,pdpilot,oracle
mkdir -p "$out"
npm run build >/dev/null
for gpus in $gpus_list; do
  for trace in AzureLLMInferenceTrace_code.csv mixed-code-conv-shift.jsonl AzureLLMInferenceTrace_conv.csv; do
    name=${trace%%.*}
    echo "== $name, $gpus GPUs, attainment $attainment"
    node bin/pdpilot.js bench --trace "data/traces/$trace" --gpus "$gpus" --profile "$profile" "${slo[@]}" \
      --policies "$policies" --json "$out/$name-$gpus-$attainment.json"
    node -e 'const j=require(require("node:path").resolve(process.argv[1]));for(const p of j.policies)console.log(p.name.padEnd(12),("×"+p.goodput_rate_scale.toFixed(3)).padStart(8),p.goodput_rps_per_gpu.toFixed(3).padStart(7),(100*p.at_scale_1.attainment).toFixed(1).padStart(6)+"%",String(p.at_scale_1.flips).padStart(4))' "$out/$name-$gpus-$attainment.json"
  done
  # Item 3: length-aware prefill routing against plain shortest-queue, under pdpilot and static-best.
  for trace in AzureLLMInferenceTrace_code.csv mixed-code-conv-shift.jsonl; do
    name=${trace%%.*}
    for router in length-aware shortest-queue; do
      echo "== router $router, $name, $gpus GPUs"
      node bin/pdpilot.js bench --trace "data/traces/$trace" --gpus "$gpus" --profile "$profile" "${slo[@]}" \
        --policies static-best,pdpilot --router "$router"
    done
  done
done
