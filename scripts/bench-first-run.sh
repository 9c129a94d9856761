#!/usr/bin/env bash
# The engine's first run of the paper-shaped grid against its floor, in alternated rounds
# (docs/benchmarks.md, "The first run"). Each round runs every given binary's first
# `repro run all -j 2` and then the floor, each in a directory never used before (deleting
# files between runs slows the next file creations on ext4), 5 s apart, under /usr/bin/time.
#
#   scripts/bench-first-run.sh GRID ROUNDS BIN...
#
# GRID is a grid workspace kept by the engine bench, after its runs:
#   cargo bench -p repro --bench engine_grid -- --first-reps 1 --reps 1 --keep GRID
# The floor is the same commands, taken from the action records that GRID's lock names, run
# by `xargs -0 -n1 -P2 sh -c` stage by stage (STAGES, in dependency order; default `data train
# stats table`) after a `mkdir -p` of their outputs' directories. The runs are kept under
# $OUT (default a new folder in /tmp); delete it afterwards.
set -euo pipefail
grid=${1:?usage: bench-first-run.sh GRID ROUNDS BIN...}
rounds=${2:?usage: bench-first-run.sh GRID ROUNDS BIN...}
shift 2
[ $# -gt 0 ] || { echo "bench-first-run: name at least one repro binary" >&2; exit 2; }
bins=()
for bin in "$@"; do
    [ -x "$bin" ] || { echo "bench-first-run: $bin is not an executable" >&2; exit 2; }
    bins+=("$(realpath "$bin")")
done
[ -f "$grid/pipeline.yaml" ] && [ -f "$grid/repro.lock" ] && [ -d "$grid/cache/actions" ] ||
    { echo "bench-first-run: $grid holds no grid workspace with a lock and action records" >&2
      exit 2; }
grid=$(cd "$grid" && pwd)
out=${OUT:-$(mktemp -d /tmp/first-run.XXXXXX)}
stages=${STAGES:-data train stats table}
mkdir -p "$out/floor-commands"
python3 - "$grid/cache/actions" "$grid/repro.lock" "$out/floor-commands" $stages <<'PY'
import json, os, sys
actions, lock, dest, stages = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cmds = {s: [] for s in stages}
dirs = set()
# Only the records the lock names: a kept grid also holds those of the bench's later re-runs.
# A key that two profiles share is one command.
keys = sorted({line.split()[1] for line in open(lock) if line.startswith("key ")})
for key in keys:
    name = key + ".json"
    r = json.load(open(os.path.join(actions, name)))
    stage = r["instance"].split("@")[0]
    argv = r["inputs"]["argv"]
    if stage not in cmds or argv[:2] != ["sh", "-c"]:
        sys.exit(f"bench-first-run: unexpected record {name} ({stage}: {argv[:2]})")
    cmds[stage].append(argv[2])
    dirs.update(os.path.dirname(o) for o in r["outputs"])
for s in stages:
    with open(os.path.join(dest, s), "w") as f:
        f.write("".join(c + "\0" for c in cmds[s]))
with open(os.path.join(dest, "dirs"), "w") as f:
    f.write("".join(d + "\0" for d in sorted(dirs) if d))
print(f"floor: {sum(map(len, cmds.values()))} commands in {len(stages)} stages", file=sys.stderr)
PY
floor() {
    set -euo pipefail
    local dir=$1
    mkdir -p "$dir" && cd "$dir"
    xargs -0 -r mkdir -p < "$out/floor-commands/dirs"
    for s in $stages; do
        xargs -0 -r -n1 -P2 sh -c < "$out/floor-commands/$s"
    done
}
for r in $(seq 1 "$rounds"); do
    sleep 5
    i=0
    for bin in "${bins[@]}"; do
        i=$((i + 1))
        # Numbered: two binaries of the same name must not share a workspace.
        name="$i-$(basename "$bin")"
        dir="$out/$name-$r"
        mkdir -p "$dir"
        cp "$grid/pipeline.yaml" "$dir/"
        (cd "$dir" && /usr/bin/time -f "round $r $name: %e s wall, %U s user, %S s system" \
            "$bin" run all -j 2 --no-build > /dev/null 2> "$dir.err") || {
            tail -3 "$dir.err" >&2; exit 1; }
        tail -1 "$dir.err"
    done
    /usr/bin/time -f "round $r floor: %e s wall, %U s user, %S s system" \
        bash -c "$(declare -f floor); out='$out'; stages='$stages'; floor '$out/floor-$r'" \
        > /dev/null
done
echo "runs kept in $out" >&2
