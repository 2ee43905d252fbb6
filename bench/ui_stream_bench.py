"""Streaming in a real browser: the app as a subprocess, headless Chromium, the scripted model; prints figures.

    uv run python bench/ui_stream_bench.py [--only a,b,c,d,e,f] [--trials 10] [--app-root DIR]

The app (`galaxy-chat --test-mode` on a free loopback port) runs pinned to one core; this script, the
scripted LLM server (a thread), Playwright and Chromium to the other. Tokens identify themselves ("r07 "
then "t0001 ", ...), the server records when it writes each one (time.time()), and each tab records when
each one is painted (bench/ui_bench_page.py). Every tab is a different person (X-EMAIL-USER, believed in
test mode), because a chat session belongs to its user. `--app-root` runs the app from a scratch copy of
the repository (PYTHONPATH), to measure a prototype against the same harness.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from bench.ui_bench_page import Browser
from bench.ui_bench_phases import Run, first_token, memory, stream
from bench.ui_bench_rig import App, Model, cores, median, percentile

# The scripted model's time to first token in (a) and (d), then a token every 20 ms. Hosted models take
# 0.2-2 s to the first token, and (a) subtracts that delay (the figure is what the app adds); the page builds the new
# turn meanwhile, as it would with a real model. (a) and (d, 5 tabs) also report a model with no delay.
FIRST_TOKEN_S = 0.2
STREAM_S = 0.01  # (c) while streaming: a token every 10 ms, 100 tokens/s, like a fast hosted model
PEERS = "naive NiceGUI / Chainlit / Gradio"


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, bool]] = []
        self.notes: list[str] = []

    def row(self, name: str, value: str, target: str, peers: str, ok: bool) -> None:
        self.rows.append((name, value, target, peers, ok))

    def print(self) -> None:
        print(f"\n| figure | measured | target | {PEERS} | |\n| --- | --- | --- | --- | --- |")
        for name, value, target, peers, ok in sorted(self.rows, key=lambda r: r[0][:3]):
            print(f"| {name} | {value} | {target} | {peers} | {'ok' if ok else 'MISSED'} |")
        print("\n" + "\n".join(self.notes))


def first_token_phase(app: App, browser: Browser, model: Model, trials: int, report: Report) -> None:
    a = first_token(app, browser, model, trials, FIRST_TOKEN_S)
    report.row(f"(a) Enter → first token painted, minus the model's {FIRST_TOKEN_S * 1000:.0f} ms, median of "
               f"{int(a['counted'])}", f"{a['painted']:.0f} ms", "≤ 20 ms", "22 / 47 / 175 ms", a["painted"] <= 20)
    now = first_token(app, browser, model, trials, 0.0)
    for name, figures in ((f"{FIRST_TOKEN_S * 1000:.0f} ms", a), ("no", now)):
        report.notes.append(f"(a) model with {name} first-token delay: added {figures['painted']:.0f} ms "
                            f"({figures['min']:.0f}-{figures['max']:.0f}); medians: Enter → request at the model "
                            f"{figures['to_server']:.1f} ms, Enter → in the DOM (minus the delay) "
                            f"{figures['dom']:.1f} ms, first token written → painted {figures['after_emit']:.1f} ms")


def bytes_row(report: Report, label: str, small: Run, big: Run) -> None:
    ratios = [run.payload[0] / run.reply_bytes for run in (small, big)]
    report.row(f"(c) WebSocket payload per reply, {label}: 500 → 2,000 tokens",
               f"{small.payload[0] / 1024:,.0f} → {big.payload[0] / 1024:,.0f} KB ({ratios[0]:.1f}x → "
               f"{ratios[1]:.1f}x reply); wire {small.wire / 1024:,.1f} → {big.wire / 1024:,.1f} KB",
               "≤ 3x reply, linear", "", max(ratios) <= 3 and ratios[1] <= 1.5 * ratios[0])
    report.notes.append(f"(c) {label}: app CPU {small.cpu_per_1k:.2f} / {big.cpu_per_1k:.2f} s per 1k tokens, "
                        f"lag p95 {percentile(small.lags_ms, 0.95):.0f} / {percentile(big.lags_ms, 0.95):.0f} ms; "
                        f"{big.browser_load} (2,000 tokens)")


def throughput_phase(app: App, browser: Browser, model: Model, only: set[str], report: Report) -> None:
    big = stream(app, browser, model, 1, 2000, 0.0)  # full speed
    rate = 2000 / (big.last_ms[0] / 1000)
    if "b" in only:
        report.row("(b) tokens/s painted, 2,000 tokens at full speed", f"{rate:,.0f}", "≥ 2,000",
                   "350 / 86 / 152", rate >= 2000)
        report.row("(b) app CPU per 1,000 tokens, full speed", f"{big.cpu_per_1k:.3f} s", "≤ 0.15 s",
                   "2.8 / 0.38 / 1.6 s", big.cpu_per_1k <= 0.15)
        report.notes.append(f"(b) Enter → first token painted {big.first_ms[0]:.0f} ms, → last {big.last_ms[0]:.0f}"
                            f" ms; app CPU {big.cpu_s:.2f} s for 2,000 tokens")
    if "c" not in only:
        return
    report.notes.append(f"(c) WebSocket extensions: {', '.join(big.extensions) or '?'}; payload = message bytes "
                        "after decompression (Playwright frames), wire = TCP bytes the app sent (ss)")
    bytes_row(report, "prose at full speed", stream(app, browser, model, 1, 500, 0.0), big)
    for shape in ("prose", "code", "flat"):
        runs = [stream(app, browser, model, 1, n, STREAM_S, shape, timeout_s=n * STREAM_S + 60) for n in (500, 2000)]
        bytes_row(report, f"{shape} at {1 / STREAM_S:.0f} tok/s", *runs)


def lag_phase(app: App, browser: Browser, model: Model, report: Report) -> None:
    for tabs, target, peers in ((1, 16, "12 / 94 / 22 ms"), (5, 50, "118 / 12,861 / 208 ms")):
        run = stream(app, browser, model, tabs, 300, 0.02, first_delay_s=FIRST_TOKEN_S)
        p95 = percentile(run.lags_ms, 0.95)
        report.row(f"(d) p95 lag painted behind emitted, 300 tokens x 20 ms, {tabs} tab(s)", f"{p95:.0f} ms",
                   f"≤ {target} ms", peers, p95 <= target and run.complete == tabs)
        report.notes.append(f"(d) {tabs} tab(s): lag median {median(run.lags_ms):.1f} ms, max "
                            f"{max(run.lags_ms, default=float('nan')):.0f} ms over {len(run.lags_ms)} tokens; "
                            f"complete {run.complete}/{tabs}; app CPU {run.cpu_per_1k:.2f} s per 1k tokens; "
                            f"{run.browser_load}")
        if tabs > 1:  # the same with a model that answers at once: the pages' first-message work meets the tokens
            now = stream(app, browser, model, tabs, 300, 0.02)
            report.notes.append(f"(d) {tabs} tabs, model with no first-token delay: lag p95 "
                                f"{percentile(now.lags_ms, 0.95):.0f} ms, median {median(now.lags_ms):.1f} ms")


def crowd_phase(app: App, browser: Browser, model: Model, report: Report) -> None:
    run = stream(app, browser, model, 20, 200, 0.02, timeout_s=120)
    report.row("(e) 20 tabs x 200 tokens x 20 ms: tabs with every token, reloads",
               f"{run.complete}/20, {run.reloads}", "20/20, 0", "", run.complete == 20 and run.reloads == 0)
    report.row("(e) app CPU per 1,000 tokens, 20 tabs", f"{run.cpu_per_1k:.2f} s", "≤ 0.3 s", "",
               run.cpu_per_1k <= 0.3)
    lags = (median(run.lags_ms) / 1000, percentile(run.lags_ms, 0.95) / 1000)
    report.notes.append(f"(e) lag median {lags[0]:.1f} s, p95 {lags[1]:.1f} s; socket closes {run.socket_closes}; "
                        f"app CPU {run.cpu_s:.2f} s for 4,000 tokens; {run.browser_load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b,c,d,e,f", help="phases to run (comma-separated letters)")
    parser.add_argument("--trials", type=int, default=10, help="replies for (a)")
    parser.add_argument("--app-root", type=Path, default=None, help="run the app from this copy of the repo")
    args = parser.parse_args()
    only = set(args.only.split(","))
    app_cores, home = cores()
    os.sched_setaffinity(0, home)  # before any thread or child exists: all of them inherit it
    print(f"app on CPU {sorted(app_cores)}; this script, the model server and Chromium on CPU {sorted(home)}"
          + (f"; app from {args.app_root}" if args.app_root else ""), flush=True)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as name:
        folder = Path(name)
        model = Model(folder)
        browser = Browser()
        try:
            if "f" in only:  # its own fresh app: memory is best read before anything else has run
                mem = memory(folder, model, browser, app_cores, home, args.app_root)
                report.row("(f) app RSS per idle tab", f"{mem['per_tab']:.2f} MB", "≤ 0.3 MB", "0.6 / 0.65 / 0.9 MB",
                           mem["per_tab"] <= 0.3)
                report.notes.append(f"(f) RSS fresh {mem['fresh']:.1f} MB, 1 tab {mem['one']:.1f} MB, "
                                    f"{1 + mem['tabs']} tabs {mem['many']:.1f} MB (per tab: the last two)")
                print("(f) done", flush=True)
            if only & set("abcde"):
                app = App(folder, model, app_cores, home, args.app_root)
                try:
                    if "a" in only:
                        first_token_phase(app, browser, model, args.trials, report)
                    if only & {"b", "c"}:
                        throughput_phase(app, browser, model, only, report)
                    if "d" in only:
                        lag_phase(app, browser, model, report)
                    if "e" in only:
                        crowd_phase(app, browser, model, report)
                finally:
                    app.stop()
        finally:
            browser.close()
            model.stop()
    report.print()


if __name__ == "__main__":
    main()
