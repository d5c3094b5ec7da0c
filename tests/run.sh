#!/usr/bin/env bash
# Runs accessmon's test suites and prints one closing line, "N passed, N failed".
#
#   tests/run.sh          everything
#   tests/run.sh unit     unit tests: plain, under ASan+UBSan, and under valgrind
#   tests/run.sh bpf      BPF program tests: the verifier per hook set, packet
#                         programs by BPF_PROG_TEST_RUN (root; nothing attached)
#   tests/run.sh layout   the folders of user/ as layers (no include runs back up),
#                         and every relative link and anchor in the docs
#   tests/run.sh e2e      end-to-end tests on the live probes (root)
#   tests/run.sh fuzz     every libFuzzer target for FUZZ_SECONDS (default 10)
#   tests/run.sh deploy   the Kubernetes manifests and image (tests/deploy/run.sh)
#   tests/run.sh vm       the kernel matrix's smoke: Debian's other kernels in qemu
#                         (tests/vm/run.sh smoke)
#
# Expects the binaries `make check` builds, under $BUILD (default: build).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}
passed=0
failed=0
failed_suites=()

# Adds a cmocka run's counts: "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)".
count_cmocka() {
	local log=$1 name=$2 rc=$3 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	# A crash, a sanitizer report or a valgrind error fails the run whatever it counted.
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		failed_suites+=("$name")
		cat "$log"
	fi
	printf '  %-40s %s passed, %s failed\n' "$name" "$p" "$f"
}

run_unit() {
	local test name log rc
	log=$(mktemp)
	echo "unit tests"
	for test in "$BUILD"/tests/test_*; do
		[ -x "$test" ] || continue
		name=$(basename "$test")
		"$test" > "$log" 2>&1
		count_cmocka "$log" "$name" $?
	done
	echo "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
	for test in "$BUILD"/san/tests/test_*; do
		[ -x "$test" ] || continue
		name="asan+ubsan $(basename "$test")"
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
			"$test" > "$log" 2>&1
		count_cmocka "$log" "$name" $?
	done
	echo "unit tests under valgrind"
	for test in "$BUILD"/tests/test_*; do
		[ -x "$test" ] || continue
		name="valgrind $(basename "$test")"
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$test" > "$log" 2>&1
		rc=$?
		count_cmocka "$log" "$name" $rc
	done
	rm -f "$log"
}

# tests/bpf: cmocka binaries, one a BPF source. They load programs (root) and run
# them on crafted input; they attach nothing, so they cannot see or disturb the node.
run_bpf() {
	local test log rc
	log=$(mktemp)
	echo "BPF program tests (verifier, BPF_PROG_TEST_RUN)"
	if [ "$(id -u)" != 0 ]; then
		echo "  BPF program tests load programs: run as root" >&2
		failed=$((failed + 1))
		failed_suites+=("bpf (not root)")
		rm -f "$log"
		return
	fi
	for test in "$BUILD"/tests/bpf/test_*; do
		[ -f "$test" ] && [ -x "$test" ] || continue
		"$test" > "$log" 2>&1
		rc=$?
		# The tests' own notes: what a test run cannot reach, and where it is covered.
		grep '^  ' "$log"
		count_cmocka "$log" "bpf $(basename "$test")" $rc
	done
	rm -f "$log"
}

run_e2e() {
	local suite name log p f
	log=$(mktemp)
	echo "end-to-end tests (live probes, fake pods)"
	if [ "$(id -u)" != 0 ]; then
		echo "  e2e tests load BPF programs and create cgroups and network namespaces: run as root" >&2
		failed=$((failed + 1))
		failed_suites+=("e2e (not root)")
		return
	fi
	for suite in tests/e2e/test_*.sh; do
		name=$(basename "$suite" .sh)
		BUILD="$BUILD" timeout 600 bash "$suite" 2>&1 | tee "$log"
		p=$(sed -n 's/^[a-z0-9_-]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
		f=$(sed -n 's/^[a-z0-9_-]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
		if [ -z "$p" ]; then
			# The suite died before its summary.
			p=0
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$f" = 0 ] || failed_suites+=("$name")
	done
	rm -f "$log"
}

# run_summarized NAME TITLE COMMAND...: runs a suite that ends with
# "NAME: N passed, N failed", shows its output and adds its counts (a suite that
# died before its summary counts as one failure).
run_summarized() {
	local name=$1 title=$2 log p f
	shift 2
	log=$(mktemp)
	echo "$title"
	"$@" 2>&1 | tee "$log"
	p=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p" "$log" | tail -n 1)
	f=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p" "$log" | tail -n 1)
	if [ -z "$p" ]; then
		p=0
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" = 0 ] || failed_suites+=("$name")
	rm -f "$log"
}

run_layout() {
	local log check
	log=$(mktemp)
	echo "layout: the folders of user/ as layers, and the docs' links"
	for check in layers links; do
		if [ "$check" = layers ]; then
			tests/layout/check-layers.sh > "$log" 2>&1
		else
			git ls-files -z '*.md' ':!:tests/deploy/node_modules' |
				xargs -0 python3 tests/layout/check-links.py > "$log" 2>&1
		fi
		if [ $? = 0 ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			failed_suites+=("layout-$check")
		fi
		sed 's/^/  /' "$log"
	done
	rm -f "$log"
}

run_deploy() {
	run_summarized deploy "deployment: manifests, schema validation, image" bash tests/deploy/run.sh
}

run_vm() {
	run_summarized vm "the kernel matrix: one event per probe family on each kernel, in qemu" \
		env BUILD="$BUILD" tests/vm/run.sh smoke
}

run_fuzz() {
	local target corpus log rc
	log=$(mktemp)
	echo "fuzzing, ${FUZZ_SECONDS:-10} s a target (seed corpora in fuzz/corpus)"
	for target in "$BUILD"/fuzz/fuzz_*; do
		[ -x "$target" ] || continue
		corpus=$(mktemp -d)
		"$target" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=5 -rss_limit_mb=2048 \
			-artifact_prefix="$BUILD/fuzz/" -print_final_stats=0 \
			"$corpus" "fuzz/corpus/${target##*/fuzz_}" > "$log" 2>&1
		rc=$?
		rm -rf "$corpus"
		if [ "$rc" = 0 ]; then
			passed=$((passed + 1))
			printf '  %-40s %s\n' "$(basename "$target")" "$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -n 1)"
		else
			failed=$((failed + 1))
			failed_suites+=("$(basename "$target")")
			tail -n 40 "$log"
		fi
	done
	rm -f "$log"
}

case "$what" in
all)
	run_layout
	run_unit
	run_bpf
	run_fuzz
	run_deploy
	run_e2e
	run_vm
	;;
deploy) run_deploy ;;
fuzz) run_fuzz ;;
unit) run_unit ;;
layout) run_layout ;;
bpf) run_bpf ;;
e2e) run_e2e ;;
vm) run_vm ;;
*)
	echo "usage: tests/run.sh [all|layout|unit|bpf|e2e|fuzz|deploy|vm]" >&2
	exit 2
	;;
esac

if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed: ${failed_suites[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
