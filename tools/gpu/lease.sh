#!/usr/bin/env bash
# One GPU lease, one phase a call (tools/gpu/README.md says what each call carries and how the results come home):
#
#   tools/gpu/lease.sh minilm      call 1: unpack MiniLM and the data; start the MiniLM teacher's cross-validation
#   tools/gpu/lease.sh stage       call 2: keep the carried part for the next call
#   tools/gpu/lease.sh mpnet       call 3: unpack MPNet; start its cross-validation (--save-targets); wait for both
#   tools/gpu/lease.sh students    call 4: once both teachers are done, the 3-layer student's cross-validation (the
#                                  MiniLM teacher's states, MPNet's probabilities; LEASE_STUDENT_LAYERS=4: runs/ssm4);
#                                  when it is done, pack what the export reads as runs.tgz.NN and put the first four
#                                  pieces in $OUT
#   tools/gpu/lease.sh collect N   call 5 (N = 2), and on while pieces are left: the next four pieces
#
# Each training runs in a process session of its own (it goes on between calls and past a call's time limit); a
# phase waits for what it needs at most LEASE_WAIT seconds (540) and says so if it is still training: call the
# same phase again. A training that failed stays failed (its log is printed); its cross-validation resumes after
# its saved folds if runs/NAME.rc is removed and the phase run again. Run from the repository root on the device.
# LEASE_ARGS (extra training options), LEASE_MPNET_ARGS (--lr 3e-5 --bf16), LEASE_STUDENT_LAYERS (3), LEASE_DEVICE, LEASE_JOBS, LEASE_DATA,
# LEASE_STAGE and PYTHON change the defaults (tests/test_gpu_lease.py runs every phase on the CPU, tiny).
set -euo pipefail
phase=${1:?usage: tools/gpu/lease.sh minilm|stage|mpnet|students|collect N}
case "$phase" in
minilm|stage|mpnet|students|collect|_train) ;;
*) echo "unknown phase $phase (minilm|stage|mpnet|students|collect N)" >&2; exit 2 ;;
esac
STAGE=${LEASE_STAGE:-/tmp/lease}
DATA=${LEASE_DATA:-../shared/data}
DEVICE=${LEASE_DEVICE:-cuda}
JOBS=${LEASE_JOBS:-6}
DEADLINE=$((SECONDS + ${LEASE_WAIT:-540}))   # a phase waits for trainings until then (a call may run 600 s)
PYTHON=${PYTHON:-python3}
read -r -a EXTRA <<< "${LEASE_ARGS:-}"
OUT=${OUT:-$STAGE/out}
PIECE=15000000     # bytes: the device returns at most 8 files of 16 MiB, 64 MiB a call
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
export SLANT_MINILM_DIR=$STAGE/minilm SLANT_MPNET_DIR=$STAGE/mpnet
mkdir -p "$STAGE/parts" "$STAGE/runs" "$OUT"
[ -e runs ] || ln -s "$STAGE/runs" runs   # the trainings' folders live with the stage, outside the synced tree
LAYERS=${LEASE_STUDENT_LAYERS:-3}
SSM=ssm; [ "$LAYERS" = 3 ] || SSM=ssm$LAYERS   # the student's run: runs/ssm, or runs/ssm4 for 4 layers
STUDENT=(--layers "$LAYERS" --distil-from runs/scv/teacher-fp32.pt
         --distil-from runs/mp/targets.npz --distil-states)

unpack() {   # every complete bundle among the parts carried so far
    if compgen -G "lease/*-of-*" > /dev/null; then cp lease/*-of-* "$STAGE/parts/"; fi
    "$PYTHON" -m slant.training.carry unpack "$STAGE/parts" --to "$STAGE" "$@"
    if [ ! -e "$DATA" ]; then mkdir -p "$(dirname "$DATA")" && ln -s "$STAGE/data" "$DATA"; fi
}

start() {    # start NAME OPTIONS...: the cross-validation runs/NAME in its own process session, unless started
    local name=$1; shift
    if [ -e "runs/$name.log" ]; then return; fi
    setsid nohup bash "$0" _train "$name" "$@" > "runs/$name.log" 2>&1 < /dev/null &
    echo "started runs/$name (runs/$name.log)"
}

progress() { # the last line of runs/NAME.log that slant wrote (its folds, steps and files)
    tr '\r' '\n' < "runs/$1.log" | grep -a -E '^\[|step [0-9]|wrote|targets of' | tail -n 1 || true
}

state() {    # done, failed or training
    if [ ! -e "runs/$1.rc" ]; then echo training; elif [ "$(cat "runs/$1.rc")" = 0 ]; then echo "done"; else echo failed; fi
}

figures() {  # a finished cross-validation's out-of-fold micro-F1 (thresholds cross-fitted), from its cv.json
    "$PYTHON" -c 'import json, sys; cv = json.load(open(sys.argv[1])); f = cv["figures"]["fp32_torch"]
print(sys.argv[1], cv["minutes"], "min: paragraphs", f["subtask3_micro_f1_crossfit"], "per fold",
      f["per_fold_micro_f1_crossfit"], "dev format", f.get("ptc_text", {}).get(
      "micro_f1_crossfit_thresholds_tuned_on_paragraphs"), "spans", f["spans_si_in_sample"]["f1"])' "runs/$1/cv.json"
}

wait_for() { # wait_for NAME...: 0 when all are done, 1 if one failed, 2 if one still trains at DEADLINE
    local name busy
    while :; do
        busy=0
        for name in "$@"; do
            case $(state "$name") in
            failed) echo "runs/$name failed:"; tail -n 20 "runs/$name.log"; return 1 ;;
            training) busy=1 ;;
            esac
        done
        [ $busy = 0 ] && { for name in "$@"; do figures "$name"; done; return 0; }
        if [ $SECONDS -ge $DEADLINE ]; then
            for name in "$@"; do echo "runs/$name: $(state "$name"); $(progress "$name")"; done
            echo "still training after ${SECONDS} s: run this phase again"; return 2
        fi
        sleep 5
        if [ $((SECONDS % 60)) -lt 5 ]; then
            for name in "$@"; do echo "${SECONDS}s runs/$name: $(progress "$name")"; done
        fi
    done
}

pieces() {   # copy the N-th four pieces of runs.tgz to $OUT
    local n=$1
    ls "$STAGE"/runs.tgz.* | sed -n "$(( (n - 1) * 4 + 1 )),$(( n * 4 ))p" | xargs -r -I{} cp {} "$OUT/"
    echo "pieces $(ls "$STAGE"/runs.tgz.* | wc -l) in all; in \$OUT:"; ls -l "$OUT"
}

case "$phase" in
_train)      # (started by start) the shipped recipe's cross-validation, all six trainings at once
    name=$2; shift 2
    rc=0
    "$PYTHON" -m slant train --data "$DATA" --out "runs/$name" --cross-validate --epochs 10 --sentence-units \
        --device "$DEVICE" --jobs "$JOBS" --threads 1 "${EXTRA[@]}" "$@" || rc=$?
    echo "$rc" > "runs/$name.rc"
    ;;
minilm)
    unpack --require minilm-data.tgz
    start scv
    ;;
stage)
    unpack
    echo "runs/scv: $(state scv); $(progress scv)"
    ;;
mpnet)
    unpack --require minilm-data.tgz --require mpnet.tar
    read -r -a MPNET <<< "${LEASE_MPNET_ARGS:---lr 3e-5 --bf16}"
    start mp --base mpnet --save-targets "${MPNET[@]}"
    wait_for scv mp || exit $?
    ;;
students)
    wait_for scv mp || exit $?
    start "$SSM" "${STUDENT[@]}"
    wait_for "$SSM" || exit $?
    if [ "$(cat "$STAGE/runs.packed" 2>/dev/null)" != "$SSM" ]; then
        rm -f "$STAGE"/runs.tgz*
        tar -czf "$STAGE/runs.tgz" "runs/$SSM"/cv.json "runs/$SSM"/oof.npz "runs/$SSM"/fold-?.npz \
            "runs/$SSM"/teacher-fp32.pt runs/mp/cv.json runs/scv/cv.json
        split -b "$PIECE" -d -a 2 "$STAGE/runs.tgz" "$STAGE/runs.tgz."
        echo "$SSM" > "$STAGE/runs.packed"
    fi
    sha256sum "$STAGE/runs.tgz"
    pieces 1
    ;;
collect)
    pieces "${2:?collect N: which four pieces (2 for the fifth to eighth)}"
    ;;
esac
