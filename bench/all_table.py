"""bench/all_table.py: the table of every model that bench/run_all.py prints and writes.

Pure formatting: `markdown(results)` turns run_all.py's results (the side_by_side.py summary of
each paper script, the data reader's rate and the compile time of every model; the JSON that
run_all.py writes to out/bench/all.json) into Markdown, and `flags(results)` lists what a reader
must not miss (a disturbed run, a failed script, a compile over the limit). No I/O here, so
tests/bench/all_table_test.py checks it on canned results.
"""

LOADED = 0.05        # other processes' CPU share above which a run is flagged as disturbed
COMPILE_LIMIT_S = 5  # issue 12: .rec to a JIT-ready step in under 5 s for every model


def spread(s, fmt="{:,.0f}", scale=1.0):
    """'median (min–max)' of a side_by_side.py stat; '—' when absent, the median alone for one
    repeat."""
    if not s:
        return "—"
    m, lo, hi = (fmt.format(s[k] * scale) for k in ("median", "min", "max"))
    return m if lo == hi else f"{m} ({lo}–{hi})"


def pct(s):
    return spread(s, "{:.0f}%", 100)


def ratio(s):
    return spread(s, "{:.2f}×")


def loadavg(run):
    before, after = run.get("load_before"), run.get("load_after")
    return f"{before[0]:.2f} → {after[0]:.2f}" if before and after else "—"


def disturbed(run):
    """The larger of the two measures of other processes' CPU use: over the whole script (from
    /proc/stat less our own processes' time) and inside the peer's timed phases (its JSON)."""
    inside = ((run.get("summary") or {}).get("other_load") or {}).get("max", 0)
    return max(run.get("other_share") or 0, inside)


def model_rows(run):
    """The training and inference rows of one side-by-side summary. Peak RSS is one figure per
    process (recc bench trains, then runs inference), shown on the first row."""
    s = run.get("summary")
    name = run["name"]
    if run.get("error") or not s:
        return [f"| {name} | failed: {run.get('error', 'no summary')} |" + " |" * 10]
    share = disturbed(run)
    flag = f"**busy {share:.0%}**" if share > LOADED else f"quiet ({share:.0%})"
    unit = "users/s" if s["kind"] == "retrieval" else "samples/s"
    rss = ratio(s["rss"]["ratio"])
    rows = []
    for phase, label in (("train", "training"), ("infer", "inference")):
        p = s.get(phase)
        if not p:
            continue
        target = f" (≥ {p['target']:g})" if p.get("target") else ""
        cells = [name, f"{label}, {unit}", spread(p["recc"]), spread(p["peer"]),
                 ratio(p["ratio"]) + target, pct(p["recc_sgemm_fraction"]),
                 pct(p["peer_sgemm_fraction"]), rss if not rows else "(same process)",
                 spread(p.get("compile_s"), "{:.1f}"), spread(s["sgemm_gflops"], "{:.0f}"),
                 loadavg(run), flag]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def side_by_side_table(results):
    head = ("| model | phase | recc | peer | recc / peer | recc % of SGEMM | peer % of SGEMM | "
            "peak RSS recc / peer | JIT compile s | SGEMM GFLOP/s | load avg before → after | "
            "other processes |\n|" + "---|" * 12)
    lines = [head]
    for run in results["runs"]:
        lines += model_rows(run)
    return "\n".join(lines)


def reader_table(rr):
    if not rr:
        return "(not measured)"
    if rr.get("error"):
        return f"failed: {rr['error']}"
    lines = [f"`{rr['command']}` on {rr['rows']:,} gen_funnel rows ({rr['threads']} thread):", "",
             "| file | MB of text | inflate MB/s | parse MB/s | chunks MB/s |", "|---|---|---|---|---|"]
    for f in rr["files"]:
        lines.append(f"| {f['format']} | {f['text_mb']:.1f} | {f['inflate']:,.0f} | "
                     f"{f['parse']:,.0f} | {f['chunks']:,.0f} |")
    return "\n".join(lines)


def compile_table(rows):
    if not rows:
        return "(not measured)"
    lines = ["| file | model | front end s | JIT compile s | .rec → JIT-ready s | |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['file']} | {r['model']} | {r.get('frontend_s', 0):.2f} | — | — | "
                         f"does not train: {r['error']} |")
            continue
        over = r["total_s"] > COMPILE_LIMIT_S
        lines.append(f"| {r['file']} | {r['model']} | {r['frontend_s']:.2f} | {r['jit_s']:.2f} | "
                     f"{r['total_s']:.2f} | {'**over 5 s**' if over else ''} |")
    return "\n".join(lines)


def load_line(load):
    """How busy the machine was while a section ran (run_all.py's under_watch)."""
    if not load:
        return ""
    share = load["other_share"]
    busy = f"**busy**: other processes used {share:.0%} of the CPU" if share > LOADED else \
        f"quiet: other processes used {share:.0%} of the CPU"
    return f"Load average {loadavg(load)}; {busy}."


def flags(results):
    """One line per thing that makes the table less than a clean measurement."""
    out = [f"{name}: other processes used {load['other_share']:.0%} of the CPU"
           for name, load in results.get("load", {}).items() if load["other_share"] > LOADED]
    for run in results["runs"]:
        if run.get("error") or not run.get("summary"):
            out.append(f"{run['name']}: failed ({run.get('error', 'no summary')})")
        elif disturbed(run) > LOADED:
            out.append(f"{run['name']}: other processes used {disturbed(run):.0%} of the CPU")
    for r in results.get("compile", []):
        if not r.get("error") and r["total_s"] > COMPILE_LIMIT_S:
            out.append(f"{r['file']} {r['model']}: .rec → JIT-ready {r['total_s']:.1f} s (over "
                       f"{COMPILE_LIMIT_S} s)")
    return out


def markdown(results):
    m = results["machine"]
    mode = "QUICK (tiny steps: not a measurement)" if results.get("quick") else "full"
    parts = [
        "# recc and its PyTorch peers, every model",
        "",
        f"{results['started']} – {results['finished']}, {m['cpu']} ({m['cores']} cores"
        f"{', AVX-512' if m.get('avx512') else ''}), {results['threads']} threads, "
        f"{results['repeats']} interleaved repeat{'s' if results['repeats'] != 1 else ''} per model, mode {mode}. Each cell is the median "
        "over the repeats with the range; ratios are per repeat (recc_i / peer_i). SGEMM is "
        "1024³ through torch at the fastest correct OpenBLAS core type, measured in each peer run "
        f"({results.get('coretype_summary') or 'see all.json'}).",
        "",
        side_by_side_table(results),
        "",
        "## Data reader",
        "",
        reader_table(results.get("read_rate")),
        "",
        load_line(results.get("load", {}).get("reader")),
        "",
        "## .rec to a JIT-ready training step",
        "",
        compile_table(results.get("compile")),
        "",
        load_line(results.get("load", {}).get("compile")),
        "",
        "## Flags",
        "",
    ]
    parts += [f"- {f}" for f in flags(results)] or ["- none"]
    return "\n".join(parts).replace("\n\n\n\n", "\n\n") + "\n"
