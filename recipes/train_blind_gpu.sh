#!/bin/bash
# Train several blind estimators at once on one GPU machine (16 cores): one process per job,
# each with 3 processes rendering its batches, the networks on the GPU. The music comes from
# recipes/pack_blind_data.py (folder DATA, default .gpudata). Each job is "SETTING:EXTRA ARGS OF train_blind.py".
#
#   bash recipes/train_blind_gpu.sh OUT_DIR "compressor:--steps 9000" "eq:--mode audio --init src/drywet/data/blind"
#
# Every job stops (keeping its best validated weights) after MAX_MINUTES (default 8), so the
# whole call ends inside the leased machine's 10-minute limit.
set -u
out=$1
shift
mkdir -p "$out"
d=${DATA:-.gpudata}
data=(--shared "$d/shared_data" --extra-train "$d/train" --extra-valid "$d/valid" --valid-items 256)
for job in "$@"; do
    name=${job%%:*}
    # shellcheck disable=SC2086  # the job's extra arguments are meant to split
    python -u recipes/train_blind.py --settings "$name" "${data[@]}" --device cuda --workers 3 --threads 1 \
        --keep-best --max-minutes "${MAX_MINUTES:-8}" --out "$out" ${job#*:} >"$out/$name.log" 2>&1 &
done
wait
tail -n 3 "$out"/*.log
