#!/usr/bin/env bash
# One GPU lease, one phase a call (tools/gpu/README.md says what each call carries and how the results come home):
#
#   tools/gpu/lease.sh minilm      call 1: unpack MiniLM and the data; start the MiniLM teacher's cross-validation
#                                  in a process session of its own, so that it trains on between calls
#   tools/gpu/lease.sh stage       call 2: keep the carried part for the next call
#   tools/gpu/lease.sh mpnet       call 3: unpack MPNet; its cross-validation with --save-targets; then wait for
#                                  the MiniLM teacher
#   tools/gpu/lease.sh students    call 4: the 3-layer student's cross-validation (the MiniLM teacher's states,
#                                  MPNet's probabilities); packs what the export needs as runs.tgz.NN and puts
#                                  the first four pieces in $OUT
#   tools/gpu/lease.sh collect N   call 5 (N = 2), and on while pieces are left: the next four pieces
#
# Run from the repository root on the device. Every phase can be run again: the trainings resume after their
# saved folds. LEASE_ARGS (extra training options), LEASE_DEVICE, LEASE_JOBS, LEASE_DATA, LEASE_STAGE and
# PYTHON change the defaults (tests/test_gpu_lease.py runs every phase on the CPU with tiny random encoders).
set -euo pipefail
phase=${1:?usage: tools/gpu/lease.sh minilm|stage|mpnet|students|collect N}
STAGE=${LEASE_STAGE:-/tmp/lease}
DATA=${LEASE_DATA:-../shared/data}
DEVICE=${LEASE_DEVICE:-cuda}
JOBS=${LEASE_JOBS:-6}
PYTHON=${PYTHON:-python3}
read -r -a EXTRA <<< "${LEASE_ARGS:-}"
OUT=${OUT:-$STAGE/out}
PIECE=15000000     # bytes: the device returns at most 8 files of 16 MiB, 64 MiB a call
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
export SLANT_MINILM_DIR=$STAGE/minilm SLANT_MPNET_DIR=$STAGE/mpnet
mkdir -p "$STAGE/parts" "$STAGE/runs" "$OUT"
[ -e runs ] || ln -s "$STAGE/runs" runs   # the trainings' folders live with the stage, outside the synced tree

unpack() {   # every complete bundle among the parts carried so far
    if compgen -G "lease/*-of-*" > /dev/null; then cp lease/*-of-* "$STAGE/parts/"; fi
    "$PYTHON" -m slant.training.carry unpack "$STAGE/parts" --to "$STAGE" "$@"
    if [ ! -e "$DATA" ]; then mkdir -p "$(dirname "$DATA")" && ln -s "$STAGE/data" "$DATA"; fi
}

train() {    # the shipped recipe's cross-validation, all six trainings at once
    "$PYTHON" -m slant train --data "$DATA" --cross-validate --epochs 10 --sentence-units \
        --device "$DEVICE" --jobs "$JOBS" --threads 1 "${EXTRA[@]}" "$@"
}

figures() {  # a cross-validation's out-of-fold figures, from its cv.json
    "$PYTHON" -c 'import json, sys; cv = json.load(open(sys.argv[1]))
print(sys.argv[1], cv["minutes"], "min", json.dumps(cv["figures"])[:1200])' "$1"
}

pieces() {   # copy the N-th four pieces of runs.tgz to $OUT
    local n=$1
    ls "$STAGE"/runs.tgz.* | sed -n "$(( (n - 1) * 4 + 1 )),$(( n * 4 ))p" | xargs -r -I{} cp {} "$OUT/"
    echo "pieces $(ls "$STAGE"/runs.tgz.* | wc -l) in all; in \$OUT:"; ls -l "$OUT"
}

case "$phase" in
minilm)
    unpack --require minilm-data.tgz
    setsid nohup bash "$0" _scv > runs/scv.log 2>&1 < /dev/null &
    echo "the MiniLM teacher's cross-validation started: runs/scv.log"
    ;;
_scv)        # (detached by minilm)
    rm -f runs/scv.rc
    rc=0; train --out runs/scv || rc=$?
    echo "$rc" > runs/scv.rc
    ;;
stage)
    unpack
    tail -n 2 runs/scv.log || true
    ;;
mpnet)
    unpack --require minilm-data.tgz --require mpnet.tar
    train --out runs/mp --base mpnet --lr 3e-5 --save-targets
    figures runs/mp/cv.json
    while [ ! -e runs/scv.rc ]; do sleep 5; done
    tail -n 2 runs/scv.log
    [ "$(cat runs/scv.rc)" = 0 ] || { echo "the MiniLM teacher's cross-validation failed: runs/scv.log"; exit 1; }
    figures runs/scv/cv.json
    ;;
students)
    train --out runs/ssm --layers 3 --distil-from runs/scv/teacher-fp32.pt --distil-from runs/mp/targets.npz \
        --distil-states
    figures runs/ssm/cv.json
    rm -f "$STAGE"/runs.tgz*
    tar -czf "$STAGE/runs.tgz" runs/ssm/cv.json runs/ssm/oof.npz runs/ssm/fold-?.npz runs/ssm/teacher-fp32.pt \
        runs/mp/cv.json runs/scv/cv.json
    split -b "$PIECE" -d -a 2 "$STAGE/runs.tgz" "$STAGE/runs.tgz."
    sha256sum "$STAGE/runs.tgz"
    pieces 1
    ;;
collect)
    pieces "${2:?collect N: which four pieces (2 for the fifth to eighth)}"
    ;;
*)
    echo "unknown phase $phase (minilm|stage|mpnet|students|collect N)" >&2; exit 2
    ;;
esac
