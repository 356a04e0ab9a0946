"""The figures of a measurement: each press's onset and latency, their summary, and the printed report."""

from __future__ import annotations

import numpy as np

from tools.keypress.capture import chunk_lateness
from tools.keypress.onset import N_FFT, onset_change, onset_energy

__all__ = ["analyze", "report", "percentile"]


def percentile(v: np.ndarray, q: float) -> float | None:
    return float(np.percentile(v, q)) if len(v) else None



def analyze(raw: dict, args) -> dict:
    """Find each press's onset in the capture; per-trial latencies and their summary."""
    y, t, presses, meta = raw["y"], raw["t"], raw["presses"], raw["meta"]
    t_mono = np.maximum.accumulate(t)
    index = lambda when: int(np.searchsorted(t_mono, when))  # noqa: E731  first sample stamped at/after `when`
    trials = []
    for i, (key, down0, down1, up0, up1) in enumerate(presses):
        start = index(down0)  # stamps are upper bounds: nothing before this sample followed the press
        stop_ = index(presses[i + 1][1]) if i + 1 < len(presses) else len(y) - N_FFT
        contrast = None
        if args.onset == "energy":
            k = onset_energy(y, start=start, stop=stop_, rise_db=args.rise_db, floor_db=args.floor_db)
        else:
            k, contrast = onset_change(y, start=start, stop=stop_, end=index(up0), fraction=args.fraction)
        row = {"trial": i + 1, "key": key, "press_start_s": down0 - meta["t_launch"],
               "press_end_s": down1 - meta["t_launch"], "press_window_ms": 1e3 * (down1 - down0),
               "onset_found": k is not None, "latency_ms": None, "latency_from_start_ms": None}
        if contrast is not None:
            row["contrast"] = round(min(contrast, 999.0), 1)  # 999: the pre-press frames are alike (silence)
        if k is not None:
            row["latency_ms"] = 1e3 * (t[k] - down1)
            row["latency_from_start_ms"] = 1e3 * (t[k] - down0)
        trials.append(row)

    lat = np.array([r["latency_ms"] for r in trials if r["onset_found"]])
    lat0 = np.array([r["latency_from_start_ms"] for r in trials if r["onset_found"]])
    summary = {name: {"median_ms": percentile(v, 50), "min_ms": float(v.min()) if len(v) else None,
                      "max_ms": float(v.max()) if len(v) else None, "p90_ms": percentile(v, 90)}
               for name, v in (("from_press_end", lat), ("from_press_start", lat0))}
    return {
        **{k: v for k, v in meta.items() if k != "t_launch"}, "onset": args.onset,
        "fraction": args.fraction if args.onset == "change" else None,
        "trials_run": len(trials), "no_onset": sum(not r["onset_found"] for r in trials),
        "summary": summary, "parec_chunk_lateness": chunk_lateness(t), "trials": trials,
        "note": "onset times are parec arrival times, which include parec's capture latency: each latency is an "
                "upper bound on the time to the null sink; a real sound card adds its output buffer on top",
    }



def report(res: dict) -> None:
    fmt = lambda v: "   -  " if v is None or v != v else f"{v:6.1f}"  # noqa: E731  (None or NaN: no onset)
    head = "trial  key  press window ms  latency ms  (from press start)"
    print(head + ("  contrast" if res["onset"] == "change" else ""))
    for r in res["trials"]:
        extra = f"  {r['contrast']:8.1f}" if "contrast" in r else ""
        print(f"{r['trial']:5d}  {r['key']:>3}  {r['press_window_ms']:15.1f}  {fmt(r['latency_ms']):>10}"
              f"  ({fmt(r['latency_from_start_ms'])})" + " " * 6 + extra)
    s, s0 = res["summary"]["from_press_end"], res["summary"]["from_press_start"]
    print()
    for label, key in (("median", "median_ms"), ("min", "min_ms"), ("max", "max_ms"), ("p90", "p90_ms")):
        print(f"{label:>6}: {fmt(s[key])} ms   (from press start {fmt(s0[key])} ms)")
    print(f"command: {' '.join(res['command'])}")
    print(f"latency: from the return of the key-down call ({res['press']}) to the onset; from its start in brackets")
    onset = res["onset"] + (f" (fraction {res['fraction']:g})" if res["fraction"] else "")
    print(f"buffer: {res['buffer']}   onset: {onset}   keys: {','.join(res['keys'])}   trials: {res['trials_run']}"
          f"   no onset found: {res['no_onset']}")
    print(f"parec: --latency-msec={res['parec_latency_msec']:g}, chunks every "
          f"{res['parec_chunk_interval_ms_median']:.1f} ms (median); window up {res['window_after_s']:.1f} s "
          "after launch")
    if res["no_onset"] == res["trials_run"]:
        print("no onset in any trial: " + ("if the sound plays before the key press, try --onset change"
                                          if res["onset"] == "energy" else "check that the keys reach the window "
                                          "and change its sound (--capture WAV to listen)"))
    late = res.get("parec_chunk_lateness")
    if late:
        print(f"parec chunk lateness (jitter above the earliest chunks): median {late['median_ms']:.1f} ms, "
              f"p90 {late['p90_ms']:.1f} ms, max {late['max_ms']:.1f} ms; the capture ran "
              f"{late['clock_rate_ppm']:+.0f} ppm against time.monotonic()")
    pulse = res.get("pulse_latencies") or {}
    for key, label in (("playback", "playback stream (the command)"), ("recording", "recording stream (parec)")):
        for d in pulse.get(key, []):
            print(f"PulseAudio's estimate for the {label}: " + ", ".join(
                f"{k[:-3].replace('_', ' ')} {v:.1f} ms" for k, v in d.items()))
    print("note: " + res["note"] + ".")
