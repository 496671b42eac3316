#!/usr/bin/env bash
# Proof that core/ is firmware code: cross-compiles it for a Cortex-M4F (newlib-nano, no heap),
# runs it over the built-in sample set under qemu (mps2-an386) and compares the readings with the
# host build of the same sources; then prints the core's code and RAM size. See docs/firmware.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

fw_dir=build/firmware
host_dir=build/firmware-host
elf=$fw_dir/wattguard_fw.elf
map=$fw_dir/wattguard_fw.map
out_dir=$fw_dir/check
qemu_timeout_s=30

fail() {
  echo "firmware check FAILED: $*" >&2
  exit 1
}

for tool in cmake ninja arm-none-eabi-g++ arm-none-eabi-nm arm-none-eabi-size qemu-system-arm timeout awk; do
  command -v "$tool" >/dev/null || fail "'$tool' not found (scripts/install-deps.sh installs it)"
done
mkdir -p "$fw_dir" "$out_dir"

# Builds quietly; shows the log only when something fails.
run_logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$* (log: $log)"
  fi
}

# 1. Cross-compile core/ and the image; build the host twin.
run_logged "$out_dir/configure-target.log" \
  cmake -S firmware -B "$fw_dir" -G Ninja --toolchain "$PWD/firmware/cmake/arm-none-eabi-cortex-m4f.cmake"
run_logged "$out_dir/build-target.log" cmake --build "$fw_dir" -j2
run_logged "$out_dir/configure-host.log" cmake -S firmware/host -B "$host_dir" -G Ninja
run_logged "$out_dir/build-host.log" cmake --build "$host_dir" -j2
echo "built $elf and $host_dir/wattguard_fw_host"

# 2. No heap, no exceptions, no iostream in the image. (The link itself already fails on malloc:
# nothing provides _sbrk. This names the culprit if that ever changes.)
forbidden='^(malloc|free|calloc|realloc|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r|__malloc_.*|_Zn[wa].*|_Zd[la].*|__cxa_.*|__gxx_personality.*|_Unwind_.*|__aeabi_unwind_cpp_pr[0-9]|_ZSt4cout|_ZSt4cerr|_ZNSt8ios_base.*|_ZNSo.*|_ZNSi.*|_ZSt9terminate.*|abort|printf|_printf_r|puts|fputs)$'
bad_symbols=$(arm-none-eabi-nm "$elf" | awk '{print $NF}' | grep -E "$forbidden" || true)
if [ -n "$bad_symbols" ]; then
  echo "$bad_symbols" | sed 's/^/  /' >&2
  fail "heap, exception or iostream symbols in $elf"
fi
echo "no heap / exception / iostream symbols in the image (arm-none-eabi-nm)"

# 3. Run the image under qemu. Semihosting output goes to a file of its own (qemu would mix it
# into its stderr); SYS_EXIT ends qemu with the image's exit status.
rm -f "$out_dir/target.txt"
set +e
timeout "$qemu_timeout_s" qemu-system-arm -M mps2-an386 -cpu cortex-m4 \
  -display none -monitor none -serial none \
  -chardev file,id=semihosting,path="$out_dir/target.txt" \
  -semihosting-config enable=on,target=native,chardev=semihosting \
  -kernel "$elf" >"$out_dir/qemu.log" 2>&1
target_status=$?
"$host_dir/wattguard_fw_host" >"$out_dir/host.txt"
host_status=$?
set -e
[ "$target_status" -eq 124 ] && fail "qemu did not finish within ${qemu_timeout_s} s"
if [ "$target_status" -ne 0 ]; then
  cat "$out_dir/target.txt" "$out_dir/qemu.log" >&2
  fail "the image exited with status $target_status"
fi
if [ "$host_status" -ne 0 ]; then
  cat "$out_dir/host.txt" >&2
  fail "the host program exited with status $host_status (its readings are wrong)"
fi

# 4. Compare: integers and hex exactly; decimals within 1e-5 relative plus one unit in the last
# printed place (libm's cos/acos may differ in the last bit between newlib and glibc).
awk '
  function abs(x) { return x < 0 ? -x : x }
  FNR == NR { if ($0 !~ /^#/) target[++nt] = $0; next }
  $0 !~ /^#/ { host[++nh] = $0 }
  END {
    if (nt != nh) { printf "line count differs: target %d, host %d\n", nt, nh; exit 1 }
    if (nt == 0) { print "no output"; exit 1 }
    bad = 0; inexact = 0; bits_differ = 0
    for (l = 1; l <= nt; ++l) {
      if (target[l] == host[l]) continue
      if (target[l] ~ /^bits /) { ++bits_differ; continue }
      nf = split(target[l], tf, " "); nf2 = split(host[l], hf, " ")
      if (nf != nf2) { printf "line %d: field count differs\n  target: %s\n  host:   %s\n", l, target[l], host[l]; bad = 1; continue }
      for (f = 1; f <= nf; ++f) {
        if (tf[f] == hf[f]) continue
        split(tf[f], tkv, "="); split(hf[f], hkv, "=")
        if (tkv[1] != hkv[1] || tkv[2] !~ /^-?[0-9]+\.[0-9]+$/ || hkv[2] !~ /^-?[0-9]+\.[0-9]+$/) {
          printf "line %d: %s (target) != %s (host)\n", l, tf[f], hf[f]; bad = 1; continue
        }
        decimals = length(tkv[2]) - index(tkv[2], ".")
        a = tkv[2] + 0; b = hkv[2] + 0
        allowed = 1e-5 * (abs(a) > abs(b) ? abs(a) : abs(b)) + 1.01 * 10 ^ (-decimals)
        if (abs(a - b) > allowed) { printf "line %d: %s (target) != %s (host)\n", l, tf[f], hf[f]; bad = 1 }
        else ++inexact
      }
    }
    if (bad) exit 1
    if (inexact == 0 && bits_differ == 0) printf "target and host readings are bit-identical (%d lines)\n", nt
    else printf "target and host readings agree (%d lines; %d printed values within tolerance, %d float bit patterns differ)\n", nt, inexact, bits_differ
  }
' "$out_dir/target.txt" "$out_dir/host.txt" || {
  echo "--- target" >&2; cat "$out_dir/target.txt" >&2
  echo "--- host" >&2; cat "$out_dir/host.txt" >&2
  fail "target and host readings differ"
}
grep -E '^(reading|calibration) ' "$out_dir/target.txt" | sed 's/^/  target: /'
grep -E '^# host check' "$out_dir/host.txt" | sed 's/^# host check/  host check:/'

# 5. Sizes. Input sections the linker kept, from the map file, attributed to their archive.
read -r sizeof_engine stack_used stack_capacity < <(
  sed -n 's/^# target sizeof_engine=\([0-9]*\) stack_used=\([0-9]*\) stack_capacity=\([0-9]*\).*/\1 \2 \3/p' \
    "$out_dir/target.txt") || fail "the image did not report its RAM use"
awk '
  /^Linker script and memory map/ { started = 1; next }
  !started { next }
  # An input section: " .text.name 0xADDR 0xSIZE file", sometimes with the name on a line of its own.
  /^ [.A-Za-z_]/ && $1 != "*fill*" {
    if (NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/) { add($1, $3, $4) } else if (NF == 1) { pending = $1 }
    next
  }
  /^ +0x[0-9a-f]+ +0x[0-9a-f]+ / && pending != "" { add(pending, $2, $3); pending = ""; next }
  { pending = "" }
  function add(section, size_hex, file,   size, owner, kind) {
    size = strtonum_hex(size_hex)
    if (size == 0) return
    if (file ~ /libwattguard_core_fw\.a/) owner = "core"
    else if (file ~ /libm\.a|libgcc\.a|libc_nano\.a|libc\.a|libstdc\+\+/) owner = "runtime"
    else owner = "firmware"
    # Only what occupies flash or RAM (not .debug_*, .comment, attributes).
    if (section ~ /^\.bss/ || section == "COMMON") kind = "bss"
    else if (section ~ /^\.data/) kind = "data"
    else if (section ~ /^\.(text|rodata|ARM\.ex)/) kind = "text"
    else return
    total[owner, kind] += size
  }
  function strtonum_hex(s,   v, i, c) {
    v = 0; s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); ++i) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
  }
  END {
    printf "%d %d %d %d %d %d\n", total["core", "text"], total["core", "data"], total["core", "bss"],
      total["runtime", "text"], total["runtime", "data"], total["runtime", "bss"]
  }
' "$map" >"$out_dir/sizes.txt"
read -r core_text core_data core_bss rt_text rt_data rt_bss <"$out_dir/sizes.txt" || fail "no sizes from $map"
read -r lib_text lib_data lib_bss < <(arm-none-eabi-size -t "$fw_dir/libwattguard_core_fw.a" |
  awk '/TOTALS/ {print $1, $2, $3}') || fail "arm-none-eabi-size of the core library"
read -r img_text img_data img_bss < <(arm-none-eabi-size "$elf" | awk 'NR == 2 {print $1, $2, $3}') ||
  fail "arm-none-eabi-size of the image"
deepest_frame=$(find "$fw_dir/CMakeFiles/wattguard_core_fw.dir" -name '*.su' -exec cat {} + |
  awk -F'\t' '$2 + 0 > max { max = $2 + 0; name = $1 } END { sub(/^.*:[0-9]+:[0-9]+:/, "", name); printf "%d B (%s)", max, name }')
[ -n "$core_text" ] && [ "$core_text" -gt 0 ] || fail "could not read the core sizes from $map"

cat <<EOF
== firmware check: core/ on a Cortex-M4F (-Os, newlib-nano, no heap), qemu mps2-an386
  core objects (all of core/src, before --gc-sections):       text ${lib_text} B, data ${lib_data} B, bss ${lib_bss} B
  core linked into the image (what the meter uses):           text ${core_text} B, data ${core_data} B, bss ${core_bss} B
  runtime pulled in (soft double, libm; nearly all for core): text ${rt_text} B, data ${rt_data} B, bss ${rt_bss} B
  whole image (with start-up, demo, 2 KB sine table):         text ${img_text} B, data ${img_data} B, bss ${img_bss} B (bss includes the ${stack_capacity} B stack)
  RAM per meter: sizeof(MetrologyEngine) = ${sizeof_engine} B (static); deepest stack in the run ${stack_used} B
    (engine calls plus the demo's frames and a 324 B line buffer); largest core stack frame ${deepest_frame}
firmware check passed
EOF
