#!/usr/bin/env bash
# UMA²'s Ablation 1 compares UMA² with YouTube DNN trained on the same 1:4:20 data with
# equal weights; the comparison only isolates the re-weighting if the two GMM losses
# differ in nothing else. This checks, on `recc graph --forward`, that the chain of ops
# from the score's softplus to the reduction of the GMM loss term ('ce') is the same in
# both models except for one multiplication by the weight in uma2 (same reduction: a
# mean over the batch).
# Usage: uma2_control_test.sh RECC MODELS_DIR
set -eu
recc=$1
models=$2
python3 - "$recc" "$models" <<'PY'
import re, subprocess, sys
recc, models = sys.argv[1], sys.argv[2]

def chain(model_file):
    text = subprocess.run([recc, "graph", f"{models}/{model_file}", "--forward"],
                          check=True, capture_output=True, text=True).stdout
    ops = {}
    for line in text.splitlines():
        m = re.match(r"\s*(%\d+) = (\w+)\(([^)]*)\)", line)
        if m:
            ops[m.group(1)] = (m.group(2), re.findall(r"%\d+", m.group(3)))
    term = re.search(r"output loss_term 'ce' = (%\d+)", text)
    if not term:
        sys.exit(f"{model_file}: no loss term 'ce'")
    # Walk back from the term through the first operand until the softplus.
    names, v = [], term.group(1)
    while ops[v][0] != "softplus":
        names.append(ops[v][0])
        v = ops[v][1][0]
        if len(names) > 10:
            sys.exit(f"{model_file}: no softplus within 10 ops of 'ce': {names}")
    return names[::-1]

ytb, uma2 = chain("youtube_dnn.rec"), chain("uma2.rec")
print("youtube_dnn:", ytb)
print("uma2:       ", uma2)
if ytb[-1] != "reduce_mean" or uma2 != ytb[:-1] + ["mul", "reduce_mean"]:
    sys.exit("the GMM losses differ in more than uma2's weight multiplication")
PY
