#!/usr/bin/env bash
# Fuzzes JSONParser with libFuzzer and AddressSanitizer (Fuzz/JSONParserFuzz), seeded with the
# JSONTestSuite corpus. Exits non-zero when the toolchain cannot build the fuzzer or the fuzzer finds
# a failing input; it never skips quietly.
#
#   scripts/fuzz-json.sh [SECONDS] [libFuzzer flags…]    e.g. scripts/fuzz-json.sh 600 -runs=5000000
#
# SECONDS (default 60) bounds the run. The build and the corpus of inputs found so far live in
# .build-fuzz/ (git-ignored), so each run starts where the previous one stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
out=.build-fuzz
seeds=Tests/TenantScopeCoreTests/Resources/JSONTestSuite/test_parsing
binary=$out/json-parser-fuzz
mkdir -p "$out/corpus" "$out/artifacts"

echo "• Building the JSONParser fuzzer (swiftc -sanitize=fuzzer,address)"
# One module of the Core JSON sources and the target: the parser is compiled with the same
# optimisation as the server, instrumented for coverage and for memory errors.
if ! swiftc -parse-as-library -sanitize=fuzzer,address -O -module-name JSONParserFuzz \
    Sources/TenantScopeCore/JSON/*.swift Fuzz/JSONParserFuzz/*.swift -o "$binary" 2>"$out/build.log"; then
  grep -v "Cannot export local symbol '__asan" "$out/build.log" >&2 || true
  echo "✗ this Swift toolchain cannot build a libFuzzer target (swiftc -sanitize=fuzzer,address failed, above)." >&2
  echo "  The Linux toolchain from swift.org ships libFuzzer and ASan; without them the fuzz pass cannot run (docs/operations.md)." >&2
  exit 1
fi

echo "• Fuzzing JSONParser for ${seconds}s (seeds: $seeds; corpus: $out/corpus)"
# SWIFT_BACKTRACE=enable=no: on a trap, Swift's backtracer would otherwise take over the crash (and
# can hold the run open); libFuzzer must see it to save the input.
# -detect_leaks=0: the Swift runtime's caches look like leaks to LeakSanitizer; memory errors are
# still caught. -max_len: large enough for 513 levels of nesting and long numbers, small enough to
# keep the runs fast.
status=0
SWIFT_BACKTRACE=enable=no "$binary" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -detect_leaks=0 \
  -dict=Fuzz/JSONParserFuzz/json.dict -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
  "$@" "$out/corpus" "$seeds" >"$out/fuzz.log" 2>&1 || status=$?
grep -E "^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|INFO: seed corpus)" "$out/fuzz.log" || true
if [[ $status -ne 0 ]]; then
  tail -n 60 "$out/fuzz.log" >&2
  echo "✗ the fuzzer found a failing input (exit $status); it is saved under $out/artifacts/." >&2
  echo "  Reproduce: SWIFT_BACKTRACE=enable=no $binary $out/artifacts/<file>; full log: $out/fuzz.log" >&2
  exit "$status"
fi
echo "✓ no failing input"
