"""The turn-timing summary both turn scorers report (score.py for earshot, pipecat_turns.py for pipecat), from rows
with `kind` ("complete" or "paused"), `latency_ms` when the turn ended after its speech, `premature` for paused turns,
`late`, and `missing` where a scorer can miss a turn; and earshot's shipped text rule, for the check-point scripts.
No dependencies, so every script's environment can import it."""
from __future__ import annotations

import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] if values else None


def latency_summary(rows) -> dict:
    """End of speech -> turn end p50/p95 for complete and for paused turns, the share of paused turns ended inside
    the pause, and the turns whose end came after the next turn began."""
    seen = [r for r in rows if not r.get("missing", False)]
    complete = [r["latency_ms"] for r in seen if r["kind"] == "complete" and "latency_ms" in r]
    paused_rows = [r for r in seen if r["kind"] == "paused"]
    paused = [r["latency_ms"] for r in paused_rows if "latency_ms" in r]
    return {
        "complete_latency_ms_p50": quantile(complete, 0.5), "complete_latency_ms_p95": quantile(complete, 0.95),
        "paused_latency_ms_p50": quantile(paused, 0.5), "paused_latency_ms_p95": quantile(paused, 0.95),
        "premature_percent": 100.0 * sum(r.get("premature", False) for r in paused_rows) / max(1, len(paused_rows)),
        "late_turns": sum(r.get("late", False) for r in rows),
    }


def shipped_rule():
    """sounds_unfinished() from src/stream/turn.rs, read from the source so the two cannot drift."""
    src = (ROOT / "src/stream/turn.rs").read_text()

    def words(const):
        body = src.split(f"const {const}: &[&str] = &[", 1)[1].split("];", 1)[0]
        return {w for w in body.replace("\n", " ").split('"')[1::2]}

    dangling, before_that, subordinators = words("DANGLING"), words("BEFORE_THAT"), words("SUBORDINATORS")
    relatives, determiners = words("RELATIVES"), words("DETERMINERS")
    marks = ("...", "…", ",", ":", "-", "—")
    body = src.split("const NUMBERS_READ_OUT", 1)[1].split("];", 1)[0]
    numbers_read_out = {w: int(n) for w, n in re.findall(r'\("(\w+)", (\d+)\)', body)}

    def number_still_coming(text):
        words = [w for w in re.split(r"[^\w]|_", text.lower()) if w]
        digits = re.compile("[0-9]+")
        if not words or not digits.fullmatch(words[-1]):
            return False
        at = max((i for i, w in enumerate(words) if w in numbers_read_out), default=None)
        if at is None:
            return False
        return sum(len(w) for w in words[at + 1:] if digits.fullmatch(w)) < numbers_read_out[words[at]]

    def lacks_its_main_clause(text):
        if text.endswith("?"):
            return False
        body = text.rstrip(".!")
        last = re.split(r"[.?!]", body)[-1].strip()
        ws = last.split()
        first = ws[0].lower() if ws else ""
        return (first in subordinators and "," not in last) or (first == "dear" and len(ws) <= 3)

    def unfinished(text):
        text = text.rstrip()
        if lacks_its_main_clause(text) or number_still_coming(text) or text.endswith(marks):
            return True
        ws = [re.sub(r"^[^\w']+|[^\w']+$", "", w).lower() for w in text.split()]
        if not ws:
            return False
        if ws[-1] in relatives and len(ws) > 2 and ws[-3] in determiners:
            return True
        if ws[-1] == "that":
            return len(ws) > 1 and ws[-2] in before_that
        return ws[-1] in dangling

    return unfinished


def rule_table(rules, clips, head="rule"):
    """Prints, per rule (name -> clip -> judged complete) and copy, the turn ends it judges unfinished (each costs the
    long wait) and the pauses it judges complete (premature ends); returns the rows."""
    table = []
    print(f"| {head} | copy | turn ends judged unfinished | pauses judged complete |\n|---|---|---|---|")
    for rule, complete in rules.items():
        for noisy in (False, True):
            ends = [c for c in clips if c["kind"] == "end" and c["noisy"] == noisy]
            pauses = [c for c in clips if c["kind"] == "pause" and c["noisy"] == noisy]
            late = sum(not complete(c) for c in ends)
            early = sum(complete(c) for c in pauses)
            table.append({"rule": rule, "noisy": noisy, "ends_unfinished": late, "ends": len(ends),
                          "pauses_complete": early, "pauses": len(pauses)})
            print(f"| {rule} | {'noisy' if noisy else 'clean'} | {late}/{len(ends)} ({100 * late / len(ends):.1f} %) "
                  f"| {early}/{len(pauses)} ({100 * early / len(pauses):.0f} %) |")
    return table
