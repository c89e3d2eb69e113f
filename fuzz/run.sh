#!/usr/bin/env bash
# run.sh SECONDS JOBS TARGET... - run the libFuzzer harnesses built in
# build/fuzz, each for SECONDS on build/fuzz/corpus/TARGET (its seeds from
# fuzz/corpus/TARGET copied in, plus what earlier runs found), JOBS at a
# time under nice; then print each target's final stats line. A crash leaves
# its input in build/fuzz/TARGET-crash-*, prints the report and fails.
set -u
secs=$1 jobs=$2
shift 2
out=build/fuzz
tmp=$(mktemp -d /dev/shm/vpnd-fuzz-run.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp		# the harnesses' scratch files, gone even after a crash

run_one() {
	local t=$1 corpus=$out/corpus/$1

	mkdir -p "$corpus"
	cp fuzz/corpus/"$t"/* "$corpus"/
	nice "$out/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/$t-" "$corpus" > "$out/$t.log" 2>&1
	echo $? > "$out/$t.rc"
}

for t in "$@"; do
	while (( $(jobs -rp | wc -l) >= jobs )); do
		wait -n
	done
	run_one "$t" &
done
wait

failed=0
for t in "$@"; do
	rc=$(cat "$out/$t.rc")
	if [[ $rc == 0 ]]; then
		printf '%-14s %s\n' "$t" "$(grep -a DONE "$out/$t.log" | tail -n 1)"
	else
		failed=1
		printf '%-14s FAILED (exit %s), log in %s:\n' "$t" "$rc" "$out/$t.log"
		grep -a -A 40 -m 1 -E '^==[0-9]+==|runtime error|deadly signal|ERROR: libFuzzer' \
			"$out/$t.log" | sed 's/^/    /'
		ls "$out/$t"-* 2>/dev/null | sed 's/^/    input: /'
	fi
done
exit $failed
