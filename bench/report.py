#!/usr/bin/env python3
"""Turns one run of bench/run into one table.

    report.py BENCH_JSON MANY_PAGES_JSONL [--markdown] [--filtered] [--load-before=LOADAVG]

--filtered (bench/run --filter) drops the rows of cases that did not run
instead of counting them as missed goals.

BENCH_JSON is Google Benchmark's JSON output (--benchmark_out) with every
repetition in it; MANY_PAGES_JSONL holds one JSON object per line from
npk_bench_many_pages. Every ratio divides two medians of the same run.
Exit status: 0 when every goal passed, 1 when one missed or could not be
measured, 2 on unusable input.
"""
import json
import statistics
import sys

# (case, baseline, goal as the largest allowed ratio or None, what it says)
# A case that is its own baseline is printed as "1.00 (base)".
ROWS = [
    ("lifecycle/floor", "lifecycle/floor", None, "bare mmap/memcpy/mprotect/call/munmap"),
    ("lifecycle/npk", "lifecycle/floor", 1.15, "alloc/install/seal/call/free via the C ABI"),
    ("lifecycle/npk_audit_off", "lifecycle/floor", None, "audit explicitly off"),
    ("lifecycle/npk_audit_on", "lifecycle/npk_audit_off", None, "audit lines to /dev/null"),
    ("lifecycle/floor_guard", "lifecycle/floor", None, "bare, page between two PROT_NONE guards"),
    ("lifecycle/npk_guard", "lifecycle/floor_guard", None, "guard pages on"),
    ("lifecycle/asmjit", "lifecycle/npk", None, "asmjit JitRuntime add/call/release"),
    ("seal/floor_mprotect", "seal/floor_mprotect", None, "mprotect RW->RX of one page"),
    ("seal/npk_5_bytes", "seal/floor_mprotect", None, "seal, 5 bytes + zero tail"),
    ("seal/npk_full_page", "seal/floor_mprotect", None, "seal, page full of non-zero bytes"),
    ("seal/fnv1a64_5_bytes", "seal/floor_mprotect", None, "npk_wildx_fnv1a64, page as in seal/npk_5_bytes"),
    ("seal/fnv1a64_full_page", "seal/floor_mprotect", None, "npk_wildx_fnv1a64, page as in seal/npk_full_page"),
    ("call/fn_ptr", "call/fn_ptr", None, "plain call through a pointer to the page"),
    ("call/npk_checked", "call/fn_ptr", 2.0, "npk_jit_call_i32_i32"),
    ("call/direct_c", "call/fn_ptr", None, "direct call of a noinline C add"),
]
for op, what in (("state", "npk_wildx_state"), ("alloc_free", "alloc + free"),
                 ("seal_free", "seal + free")):
    base = f"registry/{op}/live:1"
    ROWS += [
        (base, base, None, f"{what}, 1 other live page"),
        (f"registry/{op}/live:1000", base, None, f"{what}, 1,000 live"),
        (f"registry/{op}/live:15000", base, 1.2, f"{what}, 15,000 live"),
        (f"registry/{op}/live:1/threads:2", base, None, f"{what}, 2 threads, per-thread latency"),
        (f"registry/{op}/live:15000/threads:2", base, None, f"{what}, 2 threads, 15,000 live"),
    ]
    if op != "state":
        ROWS.append((f"registry/{op}_split/live:15000", base, None,
                     f"{what}, 15,000 live in 15,000 mappings"))
ROWS += [
    ("registry/floor_alloc_free/live:1", "registry/floor_alloc_free/live:1", None, "bare mmap + munmap"),
    ("registry/floor_alloc_free/live:15000", "registry/floor_alloc_free/live:1", None,
     "bare mmap + munmap, 15,000 bare pages mapped"),
    ("registry/floor_alloc_free_split/live:15000", "registry/floor_alloc_free/live:1", None,
     "bare mmap + munmap, 15,000 bare pages in 15,000 mappings"),
    ("registry/floor_alloc_free/live:1/threads:2", "registry/floor_alloc_free/live:1", None,
     "bare mmap + munmap, 2 threads, per-thread latency"),
    ("registry/floor_seal_free/live:1", "registry/floor_seal_free/live:1", None, "bare mprotect RX + munmap"),
    ("registry/floor_seal_free/live:1/threads:2", "registry/floor_seal_free/live:1", None,
     "bare mprotect RX + munmap, 2 threads, per-thread latency"),
    ("process/c_abi", "process/c_abi", None, "C program doing bug264 via the C ABI"),
    ("process/npk_run", "process/c_abi", None, "npk run bugs/bug264_jit_add_i32_smoke.npk"),
    ("process/npk_run_corpus/before_gate", "process/npk_run_corpus/before_gate", None,
     "npk run of every example and bugs/*_pass.npk both npks run alike, npk before the run-time gate"),
    ("process/npk_run_corpus/npk", "process/npk_run_corpus/before_gate", 1.3,
     "the same with today's npk (the gate of issue 19)"),
]

ROWS += [
    ("codegen/build/floor", "codegen/build/floor", None,
     "asmjit x86::Compiler used directly + bare mmap/copy/mprotect/call/munmap: x*K+C"),
    ("codegen/build/npk", "codegen/build/floor", 1.15, "npk_jit_build + call + npk_wildx_free: x*K+C"),
    ("codegen/build/asmjit_jitruntime", "codegen/build/floor", None, "the same asmjit client, JitRuntime (RWX pages)"),
    ("codegen/region/asmjit_jitruntime_1000", "codegen/region/asmjit_jitruntime_1000", None,
     "1,000 generated functions of 5-20 ops: asmjit x86::Compiler + JitRuntime add, call, release"),
    ("codegen/region/npk_1000", "codegen/region/asmjit_jitruntime_1000", 1.0,
     "the same 1,000 built into one region: add, seal once, call, free once"),
    ("codegen/bf/asmjit_compile", "codegen/bf/asmjit_compile", None,
     "Brainfuck JIT on asmjit x86::Compiler: compile + JitRuntime add + release"),
    ("codegen/bf/npk_compile", "codegen/bf/asmjit_compile", 0.5,
     "Brainfuck JIT on npk/jitbuild.h: record + npk_jit_build + free"),
    ("codegen/bf/asmjit_run", "codegen/bf/asmjit_run", None, "the asmjit client's code running the program"),
    ("codegen/bf/npk_run", "codegen/bf/asmjit_run", 1.10, "npk's code running the program"),
    ("codegen/call/fn_ptr", "codegen/call/fn_ptr", None, "plain call of a built x*K+C"),
    ("codegen/call/invoke", "codegen/call/fn_ptr", 10.0, "npk_jit_invoke of it (signature checked)"),
    ("codegen/loop/c_O2", "codegen/loop/c_O2", None, "sum of a[i]*K over 1M i64, C at -O2 -fno-tree-vectorize"),
    ("codegen/loop/builder", "codegen/loop/c_O2", 1.5, "the same loop built with npk/jitbuild.h"),
]

# NPK_WILDX_VERIFY=call: information, no goal (the re-hash of a page is
# the point; its cost is what a user weighs).
ROWS += [
    ("verify/invoke/off", "verify/invoke/off", None, "npk_jit_invoke of a one-page built x*3+5"),
    ("verify/invoke/call", "verify/invoke/off", None, "the same with NPK_WILDX_VERIFY=call (re-hash of 4 KiB)"),
    ("verify/call_i32_i32/off", "verify/call_i32_i32/off", None, "npk_jit_call_i32_i32 of a one-page add"),
    ("verify/call_i32_i32/call", "verify/call_i32_i32/off", None, "the same with NPK_WILDX_VERIFY=call"),
]

# Goals on absolute values: (case, counter or None for the median time in
# ns, largest allowed value, unit, what).
ABS_ROWS = [
    ("codegen/scale/labels_100000", None, 1e9, "ns", "one build of a function with 100,000 labels"),
    ("codegen/scale/vars_100000", None, 1e9, "ns", "one build of a function with 100,000 live variables"),
    ("codegen/install/region_4096_per_fn", None, 40.0, "ns",
     "install + seal per function, 4,096 pre-encoded in one region"),
    ("codegen/install/region_4096_per_fn", "bytes_per_fn_beyond_code", 64.0, "B",
     "memory per live function in that region, beyond its code"),
]

MILLION_GOAL = 1000000

MANY_PAGES_GOAL = 60000
MANY_PAGES_WHAT = {
    "mixed": "60,000 pages live, every 2nd sealed (no VMA merging)",
    "writable": "60,000 pages live, all writable",
    "sealed": "60,000 pages live, all sealed",
    "guard": "60,000 pages live, every 2nd sealed, guard pages on",
}

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def clean_name(name):
    # Google Benchmark appends how the time was taken; the table does not.
    parts = [p for p in name.split("/") if p not in ("manual_time", "real_time") and not p.startswith("iterations:")]
    return "/".join(parts)


def load_bench(path):
    with open(path) as f:
        data = json.load(f)
    runs, cpu, errors, extras = {}, {}, {}, {}
    for b in data.get("benchmarks", []):
        name = clean_name(b.get("run_name", b["name"]))
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
            continue
        if b.get("run_type") != "iteration":
            continue
        threads = int(b.get("threads", 1))
        # Google Benchmark divides the wall time of a multi-threaded case by
        # the iterations of all threads (an inverse throughput); times the
        # thread count it is the latency one thread sees per operation.
        ns = b["real_time"] * UNIT_NS[b.get("time_unit", "ns")] * threads
        runs.setdefault(name, []).append(ns)
        # CPU time is the work itself, whatever else the machine runs, but
        # only where Google Benchmark's CPU clock covers exactly the timed
        # work: not with manual timing (it would include the untimed set-up),
        # not for spawned processes, not across threads.
        raw = b.get("run_name", b["name"])
        if threads == 1 and "/manual_time" not in raw and "/real_time" not in raw:
            cpu.setdefault(name, []).append(b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")])
        elif "child_cpu_ns" in b:  # a spawned process: its own CPU time
            cpu.setdefault(name, []).append(b["child_cpu_ns"])
        ex = extras.setdefault(name, {})
        for key in ("maps", "rwx_mappings", "bytes_per_fn_beyond_code", "code_bytes", "hash_ns_per_fn", "cpu_ns_per_fn",
                    "bf_ops"):
            if key in b:
                ex[key] = b[key]
        if b.get("label"):
            ex["label"] = b["label"]
    return data.get("context", {}), runs, cpu, errors, extras


def load_many_pages(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def main(argv):
    markdown = "--markdown" in argv
    filtered = "--filtered" in argv
    load_before = None
    for a in argv[1:]:
        if a.startswith("--load-before="):
            try:
                load_before = float(a.split("=", 1)[1])
            except ValueError:
                pass
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        context, runs, cpu, errors, extras = load_bench(args[0])
    except (OSError, ValueError, KeyError) as e:
        print(f"report.py: cannot read {args[0]}: {e}", file=sys.stderr)
        return 2
    many = load_many_pages(args[1])

    medians = {k: statistics.median(v) for k, v in runs.items()}
    cpu_medians = {k: statistics.median(v) for k, v in cpu.items()}
    header = ["case", "median", "min", "max", "n", "baseline", "ratio", "min ratio", "cpu ratio", "goal",
              "verdict", "what"]
    table, notes = [], []
    all_goals_met = True
    for case, base, goal, what in ROWS:
        if filtered and case not in errors and case not in runs:
            continue  # left out by --filter: neither a row nor a verdict
        if case in errors or case not in runs:
            why = errors.get(case, "not run (filtered out or not built)")
            verdict = "SKIP" if goal is None else "MISS"
            if goal is not None:
                all_goals_met = False
            table.append([case, "-", "-", "-", "0", base if base != case else "-", "-", "-", "-",
                          f"<= {goal}" if goal else "", verdict, what])
            notes.append(f"{case}: {why}")
            continue
        v = runs[case]
        min_ratio_s = cpu_ratio_s = "-"
        if base == case:
            ratio_s, verdict = "1.00 (base)", ""
        elif base in medians:
            ratio = medians[case] / medians[base]
            ratio_s = f"{ratio:.2f}"
            min_ratio_s = f"{min(v) / min(runs[base]):.2f}"
            cpu_ratio = None
            if case in cpu_medians and base in cpu_medians:
                cpu_ratio = cpu_medians[case] / cpu_medians[base]
                cpu_ratio_s = f"{cpu_ratio:.2f}"
            verdict = "" if goal is None else ("PASS" if ratio <= goal else "MISS")
            # The verdict stays on wall-clock medians; when it fails but the
            # CPU-time ratio passes, say so: the usual sign of a busy machine.
            if verdict == "MISS" and cpu_ratio is not None and cpu_ratio <= goal:
                verdict = "MISS (cpu: PASS)"
            if verdict.startswith("MISS"):
                all_goals_met = False
        else:
            ratio_s = "-"
            verdict = "" if goal is None else "MISS"
            if goal is not None:
                all_goals_met = False
                notes.append(f"{case}: its baseline {base} did not run")
        table.append([case, fmt_time(medians[case]), fmt_time(min(v)), fmt_time(max(v)), str(len(v)),
                      "-" if base == case else base, ratio_s, min_ratio_s, cpu_ratio_s,
                      f"<= {goal}" if goal else "", verdict,
                      what])
        ex = extras.get(case, {})
        if "label" in ex:
            notes.append(f"{case}: {ex['label']}")
        if "maps" in ex and case.startswith("registry/") and "live:15000" in case and "threads" not in case \
                and "state" not in case:
            notes.append(f"{case}: {int(ex['maps'])} mappings in /proc/self/maps with the background live")

    for case, counter, limit, unit, what in ABS_ROWS:
        if filtered and case not in errors and case not in runs:
            continue
        name = case if counter is None else f"{case}:{counter}"
        if case not in runs:
            all_goals_met = False
            table.append([name, "-", "-", "-", "0", "-", "-", "-", "-", f"<= {limit:g} {unit}", "MISS", what])
            notes.append(f"{name}: {errors.get(case, 'not run')}")
            continue
        if counter is None:
            value, shown = medians[case], fmt_time(medians[case])
            lo, hi = fmt_time(min(runs[case])), fmt_time(max(runs[case]))
        else:
            value = extras.get(case, {}).get(counter)
            shown, lo, hi = (f"{value:.1f} {unit}" if value is not None else "-"), "-", "-"
        ok = value is not None and value <= limit
        if not ok:
            all_goals_met = False
        verdict = "PASS" if ok else "MISS"
        cpu_value = extras.get(case, {}).get("cpu_ns_per_fn") if counter is None else None
        if not ok and cpu_value is not None:  # the same work in CPU time: a loaded machine's second opinion
            verdict = f"MISS (cpu: {'PASS' if cpu_value <= limit else 'MISS'})"
        table.append([name, shown, lo, hi, str(len(runs[case])), "-", "-", "-", "-", f"<= {limit:g} {unit}",
                      verdict, what])
        if counter is not None and "code_bytes" in extras.get(case, {}):
            notes.append(f"{name}: each function's code is {int(extras[case]['code_bytes'])} B")
        if counter is None and "cpu_ns_per_fn" in extras.get(case, {}):
            notes.append(f"{name}: in this thread's CPU time (user + system, median of the iterations) "
                         f"{extras[case]['cpu_ns_per_fn']:.1f} ns per function")
        if counter is None and "hash_ns_per_fn" in extras.get(case, {}):
            notes.append(f"{name}: of which the seal's FNV-1a hash of each function's bytes alone takes "
                         f"{extras[case]['hash_ns_per_fn']:.1f} ns (FNV-1a, the single pages' hash; "
                         f"chunks are sealed with XXH3-64)")

    million = [m for m in many if "functions" in m]
    many = [m for m in many if "functions" not in m]
    for m in million:
        ok = m.get("live", 0) >= MILLION_GOAL and m.get("add_failures", 1) == 0 and \
            m.get("seal_failures", 1) == 0 and m.get("calls_bad", 1) == 0 and m.get("free_failures", 1) == 0
        if not ok:
            all_goals_met = False
        table.append(["codegen/million_functions", f"{m.get('live', 0)} live", "-", "-", "1", "-",
                      f"{m.get('maps_at_peak', '?')} maps", "-", "-", f">= {MILLION_GOAL}", "PASS" if ok else "MISS",
                      "built functions live at once in regions of 10,000"])
        notes.append(f"codegen/million_functions: {m.get('live')} live in {m.get('regions')} regions, "
                     f"{m.get('wildx_allocations')} wildx allocations, {m.get('wildx_bytes')} bytes, "
                     f"{m.get('maps_at_peak')} mappings at peak (vm.max_map_count {m.get('max_map_count')}), "
                     f"{m.get('calls_ok')} sampled invokes ok, built in {m.get('build_seconds')} s")
    if not million and not filtered:
        all_goals_met = False
        table.append(["codegen/million_functions", "-", "-", "-", "0", "-", "-", "-", "-", f">= {MILLION_GOAL}",
                      "MISS", "built functions live at once in regions of 10,000"])
        notes.append("codegen/million_functions: did not run")

    for m in many:
        mode = m.get("mode", "?")
        ok = m.get("allocated", 0) >= MANY_PAGES_GOAL and m.get("alloc_failures", 1) == 0 \
            and m.get("seal_failures", 1) == 0 and m.get("calls_bad", 1) == 0 and m.get("free_failures", 1) == 0
        goal = mode == "mixed"
        verdict = ("PASS" if ok else "MISS") if goal else ""
        if goal and not ok:
            all_goals_met = False
        table.append([f"many_pages/{mode}", f"{m.get('allocated', 0)} live", "-", "-", "1", "-",
                      f"{m.get('maps_at_peak', '?')} maps", "-", "-", f">= {MANY_PAGES_GOAL}" if goal else "",
                      verdict,
                      MANY_PAGES_WHAT.get(mode, "")])
        fails = m.get("alloc_failures_by_error") or {}
        notes.append(
            f"many_pages/{mode}: {m.get('allocated')}/{m.get('requested')} pages live, "
            f"{m.get('alloc_failures')} alloc failures{' ' + json.dumps(fails) if fails else ''}, "
            f"{m.get('sealed')} sealed, {m.get('maps_at_peak')} mappings at peak "
            f"(vm.max_map_count {m.get('max_map_count')}), {m.get('calls_ok')} calls ok, "
            f"alloc {m.get('alloc_seconds')} s, free {m.get('free_seconds')} s")
    if not any(m.get("mode") == "mixed" for m in many):
        all_goals_met = False
        table.append(["many_pages/mixed", "-", "-", "-", "0", "-", "-", "-", "-", f">= {MANY_PAGES_GOAL}", "MISS",
                      MANY_PAGES_WHAT["mixed"]])
        notes.append("many_pages/mixed: did not run")

    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for r in table:
            print("| " + " | ".join(c if c else " " for c in r) + " |")
    else:
        line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
        print(line)
        print("-" * len(line))
        for r in table:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print()
    print(f"host: {context.get('cpu_model', '?')}, {context.get('num_cpus', '?')} CPUs, "
          f"{context.get('kernel', '?')}; load average before the build "
          f"{load_before if load_before is not None else '?'}, at the first case {context.get('load_avg', '?')}")
    if context.get("library_build_type") == "debug":
        print("note: Debian's libbenchmark reports itself as a debug build; it times only the"
              " loop, which is inline in the header")
    print("times: median/min/max over the repetitions; ratio = median / baseline median (same run, the"
          " verdict's basis); min ratio = min / baseline min (the least disturbed repetitions);"
          " cpu ratio = the same with CPU time (single-thread, automatically timed cases, and the"
          " child's CPU time for process/*);"
          " 2-thread rows: per-thread latency")
    # bench/run passes the load average from before its own build, which
    # would otherwise count as other work.
    load = load_before if load_before is not None else (context.get("load_avg") or [0])[0]
    ncpu = context.get("num_cpus") or 1
    # Three quarters of the CPUs: a previous run of bench/run alone leaves
    # about 1.0 behind it.
    if load > 0.75 * ncpu:
        print(f"WARNING: load average {load:.2f} on {ncpu} CPUs before the run: other work"
              " shared the CPUs, wall-clock ratios are unreliable; trust the cpu ratio, or run again"
              " on a quiet machine")
    for n in notes:
        print(f"  - {n}")
    print()
    if filtered:
        print("filtered run: only the goals shown were checked")
    print(("all goals shown met" if filtered else "all goals met") if all_goals_met
          else "GOALS MISSED (see MISS rows)")
    return 0 if all_goals_met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
