#!/usr/bin/env bash
# run.sh BUILD_DIR - run every unit test in BUILD_DIR/tests and every
# end-to-end script in tests/e2e against BUILD_DIR/bin, then print one
# "N passed, N failed, N skipped" line. Exit 77 from a test is a skip; under
# CI=true a skip counts as a failure (CI must run everything).
#
# The end-to-end scripts build their own namespaces (named by PID), so they
# run E2E_JOBS at a time (default 2, one per core here); a script with a
# "# serial" line in its header (one that measures CPU, or loads the machine
# on purpose) runs alone. Results are printed as each one ends.
set -u
build=${1:-build/asan}
export BIN_DIR=$build/bin
# Started from a systemd service, the daemons would prefix their lines with
# journal priorities and notify it: the tests expect neither unless they ask.
unset JOURNAL_STREAM NOTIFY_SOCKET
mkdir -p "$build/unit" "$build/e2e" "$build/fuzz"
pass=0 failn=0 skip=0 failed=()
e2e_timeout=${E2E_TIMEOUT:-180}

# A script's own limit: a "# timeout: SECONDS" line in its header, for the
# few that need more than the default (never less than E2E_TIMEOUT).
timeout_of() {
	local t
	t=$(sed -n '1,30s/^# timeout: *\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	echo $(( ${t:-0} > e2e_timeout ? t : e2e_timeout ))
}

# report NAME RC SECS: count and print one finished test.
report() {
	local name=$1 rc=$2 secs=$3
	if [[ $rc == 0 ]]; then
		pass=$((pass + 1)); echo "PASS  $name (${secs}s)"
	elif [[ $rc == 77 && ${CI:-} != true ]]; then
		skip=$((skip + 1)); echo "SKIP  $name: $(tail -n 1 "$build/$name.out")"
	else
		failn=$((failn + 1)); failed+=("$name")
		echo "FAIL  $name (exit $rc$([[ $rc == 77 ]] && echo ', a skip under CI'), ${secs}s)"
		sed 's/^/    /' "$build/$name.out" | tail -n 60
	fi
}

run_one() {
	local name=$1; shift
	local start=$SECONDS rc
	"$@" > "$build/$name.out" 2>&1
	rc=$?
	report "$name" "$rc" "$((SECONDS - start))"
}

# The pool: each job leaves "RC SECS" in NAME.rc when it ends; reap prints
# and counts those that ended, in the order they were started.
jobs_max=${E2E_JOBS:-2}
running=()
start_job() {
	local name=$1; shift
	rm -f "$build/$name.rc"
	( start=$SECONDS; "$@" > "$build/$name.out" 2>&1; rc=$?
	  echo "$rc $((SECONDS - start))" > "$build/$name.rc.tmp" &&
	  mv "$build/$name.rc.tmp" "$build/$name.rc" ) &
	running+=("$name")
}
reap() {
	local name rc secs left=()
	for name in "${running[@]}"; do
		if [[ -f $build/$name.rc ]]; then
			read -r rc secs < "$build/$name.rc"
			report "$name" "$rc" "$secs"
		else
			left+=("$name")
		fi
	done
	running=("${left[@]}")
}
# pool_wait N: wait until fewer than N jobs are running.
pool_wait() {
	reap
	while (( ${#running[@]} >= $1 )); do
		wait -n 2>/dev/null || true
		reap
	done
}

for t in "$build"/tests/test_*; do
	[[ -x $t && $t != *.d ]] || continue
	run_one "unit/${t##*/}" "$t"
done
for t in tests/e2e/*.sh; do
	[[ ${t##*/} == lib.sh ]] && continue
	if sed -n '1,30p' "$t" | grep -q '^# serial$'; then
		pool_wait 1
		run_one "e2e/$(basename "$t" .sh)" timeout -k 5 "$(timeout_of "$t")" bash "$t"
	else
		pool_wait "$jobs_max"
		start_job "e2e/$(basename "$t" .sh)" timeout -k 5 "$(timeout_of "$t")" bash "$t"
	fi
done
# A short pass of every libFuzzer harness (make fuzz runs them longer).
pool_wait "$jobs_max"
start_job "fuzz/smoke" make --no-print-directory WERROR=1 fuzz-smoke
pool_wait 1
[[ ${#failed[@]} -gt 0 ]] && echo "failed: ${failed[*]}"
echo "$pass passed, $failn failed, $skip skipped"
[[ $failn == 0 ]]
