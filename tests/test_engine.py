"""The real-time engine against a slow, obvious overlap-add; continuity; level; controls; callback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from manne.dsp import noise_phase
from manne.synth.engine import (PA_CONTINUE, PA_OUTPUT_UNDERFLOW, TARGET_DBFS, TYPICAL_PARTIALS, Engine,
                          soft_limit)
from manne.errors import OutputExistsError, ParameterError
from manne.model.forward import Autoencoder
from manne.synth.automation import Automation, keyframes, read_automation
from manne.synth.limits import LATENT_TOL, check_latent_range

Z_A = [0.3, 0.6]
Z_B = [0.9, 0.1]
NOTE_E, NOTE_A = 4, 9  # both in the tiny model's corpus (C major scale)


@pytest.fixture(scope="module")
def ae(tiny_model) -> Autoencoder:
    return Autoencoder.load(tiny_model)


def make(ae, **kw) -> Engine:
    e = Engine(ae, **kw)
    e.set_z(Z_A)
    e.set_note(NOTE_E)
    return e


def rms_db(y: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(y, np.float64) ** 2)))


# ---- the fast path against a slow reference ------------------------------------------------

def reference_overlap_add(S: np.ndarray, *, phase: str, n_frames: int, hop: int, n_fft: int, table: np.ndarray) -> np.ndarray:
    """Plain overlap-add of ``n_frames`` frames of one magnitude spectrum ``S`` (n_bins,), or of
    one spectrum per frame, ``S`` (n_frames, n_bins).

    Each frame: give S a phase, ``np.fft.irfft``, multiply by a periodic Hann window, add at t*hop.
    The sum is divided by the sum of the overlapping windows (coherent frames: amplitudes add) or
    by the root of the sum of their squares (noise frames: powers add).
    """
    n = np.arange(n_fft)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    S = np.broadcast_to(S, (n_frames, S.shape[-1]))
    k = np.arange(S.shape[1])
    acc = np.zeros(n_frames * hop + n_fft)
    norm = np.zeros(n_frames * hop + n_fft)
    ph = table[0].astype(np.float64)
    for t in range(n_frames):
        if phase == "noise":
            ph = table[t % len(table)].astype(np.float64)
        elif t > 0:
            ph = ph + 2 * np.pi * k * hop / n_fft
        x = np.fft.irfft(S[t] * np.exp(1j * ph), n=n_fft)
        acc[t * hop : t * hop + n_fft] += w * x
        norm[t * hop : t * hop + n_fft] += w if phase == "coherent" else w ** 2
    out = np.zeros_like(acc)
    full = slice(n_fft - hop, n_frames * hop)  # where every overlapping frame is present
    out[full] = acc[full] / (norm[full] if phase == "coherent" else np.sqrt(norm[full]))
    return out[: n_frames * hop]


@pytest.mark.parametrize("phase", ["noise", "coherent"])
@pytest.mark.parametrize("hop", [256, 1000])
def test_engine_matches_reference_overlap_add(ae, phase, hop):
    n_fft, T = ae.analysis.n_fft, 40
    e = make(ae, phase=phase, hop_length=hop, volume=1.0, limiter=False)
    y = e.process(T * hop)
    S = ae.decode(np.array([Z_A]), NOTE_E)[0].astype(np.float64)
    rows = max(64, 4 * -(-n_fft // hop))  # the documented table size
    table = noise_phase(rows, ae.analysis.n_bins, seed=0)
    np.testing.assert_array_equal(e.phase_table, table)
    ref = reference_overlap_add(S, phase=phase, n_frames=T, hop=hop, n_fft=n_fft, table=table) * e.gain
    full = slice(n_fft - hop, T * hop)
    assert np.abs(ref[full]).max() > 0.01  # not comparing silence
    np.testing.assert_allclose(y[full], ref[full], atol=1e-5)
    # before full overlap the output fades in (no click at the start)
    assert np.abs(y[:64]).max() < 0.1 * np.abs(y[full]).max()


@pytest.mark.parametrize("control_hop", [256, 1024])
def test_control_rate_glide_matches_reference_overlap_add(ae, control_hop):
    """A z jump decodes once and interpolates the magnitude linearly across the next control hop."""
    n_fft, hop, T0, T = ae.analysis.n_fft, 256, 20, 48
    C = control_hop // hop
    e = make(ae, phase="noise", hop_length=hop, control_hop=control_hop, smoothing_s=0.0, volume=1.0, limiter=False)
    y0 = e.process(T0 * hop)
    e.set_z(Z_B)
    y = np.concatenate([y0, e.process((T - T0) * hop)])
    Sa, Sb = (ae.decode(np.array([z]), NOTE_E)[0].astype(np.float64) for z in (Z_A, Z_B))
    w = np.clip((np.arange(T) - T0 + 1) / C, 0.0, 1.0)[:, None]  # frame T0 + j plays (j + 1) / C of the way
    S = Sa + w * (Sb - Sa)
    table = noise_phase(len(e.phase_table), ae.analysis.n_bins, seed=0)
    ref = reference_overlap_add(S, phase="noise", n_frames=T, hop=hop, n_fft=n_fft, table=table) * e.gain
    full = slice(n_fft - hop, T * hop)
    np.testing.assert_allclose(y[full], ref[full], atol=1e-5)
    assert e.decodes == 2  # the start and the jump: the glide's hops in between are interpolated


def slow_decode(ae, z, note):
    """The decoder written out plainly: concatenate the one-hot, then act(x @ W + b) layer by layer."""
    x = np.concatenate([np.asarray(z, np.float64), np.eye(12)[note]]) if ae.config.skip else np.asarray(z, np.float64)
    acts = {"lrelu": lambda v: np.where(v > 0, v, ae.config.alpha * v), "relu": lambda v: np.maximum(v, 0),
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "linear": lambda v: v}
    for layer in ae.decoder:
        x = acts[layer.act](x @ layer.W.astype(np.float64) + layer.b)
    return x


def test_one_prepared_decoder_matches_a_plain_decoder(ae):
    from manne.model.decoder import Decoder

    dec = Decoder.of(ae)
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 1, (20, ae.latent)).astype(np.float32)
    notes = rng.integers(0, 12, 20)
    ref = np.stack([slow_decode(ae, z[i], int(notes[i])) for i in range(20)])
    np.testing.assert_allclose(dec.many(z, notes), ref, atol=1e-5)
    np.testing.assert_allclose(dec.many(z[:3], notes[:3]), ref[:3], atol=1e-5)  # the one-row-at-a-time path
    np.testing.assert_allclose(dec.one(z[5], int(notes[5])), ref[5], atol=1e-5)
    np.testing.assert_allclose(ae.decode(z, notes), ref, atol=1e-5)  # the forward pass decodes through it too
    np.testing.assert_allclose(Decoder.of(ae, cols=np.arange(100, 300)).many(z, notes), ref[:, 100:300], atol=1e-5)
    assert dec.Wz.flags.c_contiguous and dec.Wz.dtype == np.float32
    assert all(W.flags.c_contiguous and W.dtype == np.float32 for W, _, _ in dec.layers)


@pytest.mark.parametrize("sizes", [[1, 7, 255, 256, 257, 1000, 4097, 3, 11025, 513], [44100], [10007] * 5])
def test_process_any_sizes_concatenate_to_one_call(ae, sizes):
    n = sum(sizes)
    whole = make(ae).process(n)
    e = make(ae)
    parts = np.concatenate([e.process(s) for s in sizes])
    assert parts.dtype == np.float32 and parts.shape == (n,)
    np.testing.assert_allclose(parts, whole, atol=1e-6)
    assert make(ae).process(0).shape == (0,)


# ---- level ------------------------------------------------------------------------------------

@pytest.mark.parametrize("phase", ["noise", "coherent"])
def test_level_does_not_depend_on_the_hop(ae, phase):
    levels = []
    for hop in (64, 256, 1024):
        e = make(ae, phase=phase, hop_length=hop, limiter=False)
        levels.append(rms_db(e.render(4.0)[ae.analysis.n_fft :]))
    assert max(levels) - min(levels) < 1.0, levels


class FixedSpectrum:
    """Stands in for the decoder: the same magnitude for every code."""

    def __init__(self, S):
        self.S = np.asarray(S, np.float32)

    def one(self, z, note):
        return self.S.copy()

    def many(self, z, note):
        return np.tile(self.S, (len(z), 1))


def partials(n_bins: int, count: int, *, peak: float = 1.0) -> np.ndarray:
    """``count`` bin-centred Hann-window partials of peak ``peak``: lobes [0.5, 1, 0.5] * peak."""
    S = np.zeros(n_bins, np.float32)
    for i in range(count):
        k = 40 + 37 * i
        S[k - 1 : k + 2] += peak * np.array([0.5, 1.0, 0.5])
    return S


@pytest.mark.parametrize("phase", ["noise", "coherent"])
def test_typical_spectrum_plays_near_minus_12_dbfs(ae, phase):
    e = make(ae, phase=phase, volume=1.0, limiter=False)
    e._decoder = FixedSpectrum(partials(ae.analysis.n_bins, int(TYPICAL_PARTIALS)))
    level = rms_db(e.render(4.0)[ae.analysis.n_fft :])
    assert abs(level - TARGET_DBFS) < 1.0, level


def test_soft_limit_is_smooth_and_never_exceeds_one():
    x = np.linspace(-20, 20, 200001).astype(np.float32)
    y = soft_limit(x.copy())
    assert np.abs(y).max() <= 1.0
    small = np.abs(x) <= 0.5
    np.testing.assert_array_equal(y[small], x[small])  # transparent below the knee
    assert np.all(np.diff(y) >= 0)  # monotonic
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max() * 1.0001  # slope <= 1: no corner, no jump


def test_loud_spectrum_is_limited_below_full_scale(ae):
    e = make(ae, phase="coherent", volume=1.0)
    e._decoder = FixedSpectrum(partials(ae.analysis.n_bins, 40, peak=3.0))
    y = e.render(1.0)
    assert 0.9 < np.abs(y).max() <= 1.0


# ---- continuity -------------------------------------------------------------------------------

def max_step(y: np.ndarray) -> float:
    return float(np.abs(np.diff(y)).max())


def jump_ratio(ae, phase: str, change) -> tuple[float, float]:
    """(max step near a control jump / max step of the steady states, same for a hard splice)."""
    e = make(ae, phase=phase)
    before = e.render(1.0)
    change(e)
    after = e.render(1.0)
    sr = e.sr
    steady = max(max_step(before[sr // 2 :]), max_step(after[sr // 2 :]))
    around = np.concatenate([before[-sr // 10 :], after[: sr // 4]])
    # what a click would look like: the steady state of the new setting spliced in without any fade
    f = make(ae, phase=phase)
    change(f)
    f.reset()
    spliced = np.concatenate([before[-sr // 10 :], f.render(1.0)[sr // 2 :][: sr // 4]])
    return max_step(around) / steady, max_step(spliced) / steady


@pytest.mark.parametrize("phase", ["noise", "coherent"])
@pytest.mark.parametrize("what", ["z", "note", "z+note", "volume"])
def test_jumps_do_not_click(ae, phase, what):
    changes = {
        "z": lambda e: e.set_z(Z_B),
        "note": lambda e: e.set_note(NOTE_A),
        "z+note": lambda e: (e.set_z(Z_B), e.set_note(NOTE_A)),
        "volume": lambda e: e.set_volume(0.1),
    }
    ratio, splice = jump_ratio(ae, phase, changes[what])
    assert ratio < 1.5, f"{what} jump: max step {ratio:.2f}x the steady state"
    assert splice > 2 * ratio  # the same change spliced in without a fade would count as a click


def test_phase_switch_does_not_click(ae):
    e = make(ae, phase="noise")
    before = e.render(1.0)
    e.set_phase("coherent")
    after = e.render(1.0)
    steady = max(max_step(before[22050:]), max_step(after[22050:]))
    assert max_step(np.concatenate([before[-4410:], after[:11025]])) < 1.5 * steady


def test_z_glides_and_then_the_magnitude_is_cached(ae):
    e = make(ae, smoothing_s=0.03)
    calls = []
    real = e._decoder

    class Counting:
        def one(self, z, note):
            calls.append(np.array(z))
            return real.one(z, note)

        def many(self, z, note):
            calls.extend(np.array(z))
            return real.many(z, note)

    e._decoder = Counting()
    e.render(0.5)
    assert len(calls) == 1  # one decode at the start, then the cache
    e.set_z(Z_B)
    e.render(1.0)
    glide = np.array(calls[1:])
    assert len(glide) > 5  # several decodes on the way
    assert np.all(np.diff(glide[:, 0]) >= 0)  # z1 rises monotonically from 0.3 to 0.9
    np.testing.assert_allclose(glide[-1], Z_B, atol=1e-6)  # and lands exactly
    n = len(calls)
    e.render(0.5)
    assert len(calls) == n  # converged: no more decodes
    np.testing.assert_allclose(e.last_spectrum, ae.decode(np.array([Z_B]), NOTE_E)[0], atol=1e-6)


# ---- control rate -----------------------------------------------------------------------------

def moving_render(ae, control_hop: int, *, seconds: float = 2.0, block: int = 512):
    """Stream ``seconds`` in callback-sized blocks while z sweeps Z_A -> Z_B -> Z_A, one set_z per block."""
    e = make(ae, control_hop=control_hop)
    e.render(0.2)
    d0 = e.decodes
    n = int(seconds * e.sr) // block
    ys = []
    for b in range(n):
        u = 1.0 - abs(2.0 * b / n - 1.0)  # 0 -> 1 -> 0
        e.set_z((1 - u) * np.array(Z_A) + u * np.array(Z_B))
        ys.append(e.process(block))
    return np.concatenate(ys), (e.decodes - d0) / (n * block / e.sr)


def test_control_rate_halves_the_decodes_and_sounds_the_same(ae):
    y256, rate256 = moving_render(ae, 256)
    y512, rate512 = moving_render(ae, 512)
    assert rate256 == pytest.approx(44100 / 256, rel=0.02)  # one decode per hop while z moves ...
    assert rate512 == pytest.approx(44100 / 512, rel=0.02)  # ... and one per control hop
    assert rate256 / rate512 == pytest.approx(2.0, rel=0.02)
    # the same phases, magnitudes interpolated between decodes: only a small difference
    diff = rms_db(y512 - y256) - rms_db(y256)
    assert diff < -45.0, f"control_hop 512 differs from decoding every hop by {diff:.1f} dB"
    assert max_step(y512) < 1.1 * max_step(y256)  # no steps at the control ticks


def test_default_control_hop(ae):
    assert Engine(ae).control_hop == 512
    assert [Engine(ae, hop_length=h).control_hop for h in (64, 128, 512, 1000, 1024)] == [512, 512, 512, 1000, 1024]
    assert Engine(ae, hop_length=128, control_hop=2048).control_hop == 2048


def test_still_controls_decode_nothing(ae):
    e = make(ae, control_hop=512)
    e.render(0.5)
    n = e.decodes
    e.set_z(list(Z_A))  # the same value again: no glide
    e.render(1.0)
    assert e.decodes == n


def test_control_change_is_heard_within_a_control_hop(ae):
    hop, control_hop = 256, 1024
    e = make(ae, hop_length=hop, control_hop=control_hop, smoothing_s=0.0)
    Sa, Sb, Sc = (ae.decode(np.array([z]), NOTE_E)[0] for z in (Z_A, Z_B, [0.5, 0.5]))
    e.render(0.5)
    # idle (cached): the change starts at the very next hop and is complete one control hop later
    e.set_z(Z_B)
    e.process(hop)
    np.testing.assert_allclose(e.last_spectrum, Sa + (Sb - Sa) / 4, atol=1e-6)
    e.process(control_hop - hop)
    np.testing.assert_allclose(e.last_spectrum, Sb, atol=1e-6)
    # moving: a change during a glide waits for the next control tick (at most control_hop - hop)
    e.set_z(Z_A)
    e.process(hop)
    e.set_z([0.5, 0.5])
    e.process(control_hop - hop)
    np.testing.assert_allclose(e.last_spectrum, Sa, atol=1e-6)  # the running glide ends where it was heading
    e.process(hop)
    np.testing.assert_allclose(e.last_spectrum, Sa + (Sc - Sa) / 4, atol=1e-6)  # the next tick heads to the change
    e.process(control_hop - hop)
    np.testing.assert_allclose(e.last_spectrum, Sc, atol=1e-6)


# ---- automation -------------------------------------------------------------------------------

def test_constant_automation_equals_a_plain_render(ae):
    y = make(ae).render(1.5)
    e = Engine(ae)
    ya = e.render_automation([(0.0, *Z_A, "E"), (1.5, *Z_A, 4)])
    assert ya.shape == (int(round(1.5 * 44100)),)
    np.testing.assert_allclose(ya, y, atol=1e-6)


@pytest.mark.parametrize("control_hop", [256, 512, 1024])
def test_automation_interpolates_z_and_holds_the_note(ae, control_hop):
    e = Engine(ae, smoothing_s=0.0, control_hop=control_hop)
    seen = []
    real = e._decoder

    class Spy:
        def one(self, z, note):
            seen.append((np.array(z), note))
            return real.one(z, note)

        def many(self, z, note):
            seen.extend(zip(np.array(z), np.asarray(note)))
            return real.many(z, note)

    e._decoder = Spy()
    y = e.render_automation([(0.0, 0.0, 0.0, "C"), (1.0, 1.0, 0.5, "G"), (2.0, 1.0, 0.5, "G")])
    assert y.shape == (88200,) and np.isfinite(y).all()
    z = np.array([s[0] for s in seen])
    notes = np.array([s[1] for s in seen])
    assert z[0, 0] == 0.0 and np.all(np.diff(z[:, 0]) >= 0) and abs(z[-1, 0] - 1.0) < 1e-6
    # while z moves a decode happens every control hop, for the keyframes of the tick's last hop:
    # decode m plays fully at hop m * control_hop / hop_length
    hop_t = np.arange(len(seen)) * control_hop / e.sr
    assert len(seen) == pytest.approx(e.sr / control_hop + 1, abs=2)
    mid = np.searchsorted(hop_t, 0.5)
    np.testing.assert_allclose(z[mid], [hop_t[mid], hop_t[mid] / 2], atol=1e-6)
    assert set(notes[hop_t < 0.99]) == {0} and notes[-1] == 7


@pytest.mark.parametrize("rows, match", [
    ([], "no keyframes"),
    ([(0.0, 0.1, "C")], r"keyframe 1: 3 values; expected time, z1..z2, note \(4\)"),
    ([(1.0, 0.1, 0.2, "C"), (0.5, 0.1, 0.2, "C")], "earlier than the previous"),
    ([(0.0, 0.1, 0.2, "H")], "keyframe 1: .*not a note"),
    ([(0.0, 0.1, "x", "C")], "keyframe 1: could not convert string to float: 'x'"),
    ([(0.0, 0.1, float("inf"), "C")], "keyframe 1: z2=inf must be a finite number"),
    ([(-1.0, 0.1, 0.2, "C")], "keyframe 1: time -1.0 must be a number >= 0"),
])
def test_bad_automation(ae, rows, match):
    with pytest.raises(ParameterError, match=match):
        Engine(ae).render_automation(rows, seconds=1.0)


def test_automation_from_a_file_renders_like_rows(ae, tmp_path):
    rows = [(0.0, 0.0, 0.2, "C"), (0.5, 0.9, 0.4, "G"), (1.2, 0.3, 0.3, 9)]
    path = tmp_path / "auto.csv"
    path.write_text("time,z1,z2,note\n# comment\n\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    auto = read_automation(path, latent=2)
    assert isinstance(auto, Automation) and auto.end == 1.2
    np.testing.assert_array_equal(auto.notes, [0, 7, 9])
    np.testing.assert_array_equal(auto.z, [r[1:3] for r in rows])
    np.testing.assert_array_equal(Engine(ae).render_automation(auto), Engine(ae).render_automation(rows))
    # sampled like keyframes: z linear between them, the note held, both held past the ends
    z, notes = auto.at(np.array([-1.0, 0.25, 0.5, 1.0, 5.0]))
    np.testing.assert_allclose(z[:, 0], [0.0, 0.45, 0.9, 0.9 - 0.6 * 0.5 / 0.7, 0.3])
    np.testing.assert_array_equal(notes, [0, 0, 7, 7, 9])
    with pytest.raises(ParameterError, match="the automation has 3 z values per keyframe; the model has 2 latent neurons"):
        Engine(ae).render_automation(keyframes([(0.0, 0.1, 0.2, 0.3, "C")], latent=3))


@pytest.mark.parametrize("content, match", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", r"auto.csv: the automation file is not CSV text"),
    ("0,0.5,0.5,C\n1,0.5,0.5,\u00e9\n".encode("latin-1"), r"auto.csv: the automation file is not CSV text"),
    (b"", r"auto.csv: the automation has no keyframes"),
    (b"time,z1,note\n", r"auto.csv: the header has 3 columns; expected time, z1..z2, note \(4\)"),
    (b"0,0.5,0.5,C\n1,0.5,1.5,C\n",
     r"auto.csv: keyframe 2 \(1, 0.5, 1.5, C\): z2=1.5 is outside the model's latent range \[0, 1\]"),
])
def test_damaged_automation_files_fail_in_one_line(tmp_path, content, match):
    path = tmp_path / "auto.csv"
    path.write_bytes(content)
    with pytest.raises(ParameterError, match=match) as info:
        read_automation(path, latent=2, latent_range=([0.0, 0.0], [1.0, 1.0]))
    assert "\n" not in str(info.value)


def test_one_latent_range_check_with_one_tolerance():
    check_latent_range([0.0, 1.0 + LATENT_TOL], [0.0, 0.0], [1.0, 1.0], where="z")  # a slider at either end passes
    check_latent_range([-40.0 - 50 * LATENT_TOL], [-40.0], [60.0], where="z")  # the tolerance grows with a wide range
    with pytest.raises(ParameterError, match=r"^here: z2=1.00001 is outside the model's latent range \[0, 1\]$"):
        check_latent_range([0.5, 1.00001], [0.0, 0.0], [1.0, 1.0], where="here")
    with pytest.raises(ParameterError, match=r"z1=-40.001 is outside the model's latent range \[-40, 60\]"):
        check_latent_range([-40.001], [-40.0], [60.0], where="z")


# ---- controls and the callback ---------------------------------------------------------------

def test_bad_parameters(ae):
    with pytest.raises(ParameterError, match=r"hop_length=32 must be from 64 to 1024 samples \(an integer\)"):
        Engine(ae, hop_length=32)
    with pytest.raises(ParameterError, match="hop_length=2048"):
        Engine(ae, hop_length=2048)
    with pytest.raises(ParameterError, match="sr=48000 differs"):
        Engine(ae, sr=48000)
    with pytest.raises(ParameterError, match="phase='loud'"):
        Engine(ae, phase="loud")
    for bad in (300, 128, 4096, 512.0, True):
        with pytest.raises(ParameterError, match=f"control_hop={bad} must be a multiple of hop_length=256 from 256 to 2048"):
            Engine(ae, control_hop=bad)
    with pytest.raises(ParameterError, match="control_hop=512 must be a multiple of hop_length=1000"):
        Engine(ae, hop_length=1000, control_hop=512)
    e = Engine(ae)
    with pytest.raises(ParameterError, match="z has 3 values; the model has 2"):
        e.set_z([0.1, 0.2, 0.3])
    with pytest.raises(ParameterError, match="finite"):
        e.set_z([0.1, float("nan")])
    with pytest.raises(ParameterError, match="not a note name"):
        e.set_note("H")
    with pytest.raises(ParameterError, match="volume=1.5 must be a number between 0 and 1"):
        e.set_volume(1.5)
    with pytest.raises(ParameterError, match="phase='random'"):
        e.set_phase("random")
    with pytest.raises(ParameterError, match="smoothing_s=-1 must be between 0 and 10 seconds"):
        Engine(ae, smoothing_s=-1)
    with pytest.raises(ParameterError, match="blas_threads=0 must be a positive integer"):
        Engine(ae, blas_threads=0)
    e.set_note("Bb")
    assert e.params.note == 10


def test_blas_runs_on_one_thread_once_an_engine_is_built(ae):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import os

    def blas():
        return [d for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # undone on exit: other tests keep their BLAS
        assert blas(), "NumPy's BLAS is not visible to threadpoolctl"
        if (os.cpu_count() or 1) > 1:
            assert all(d["num_threads"] == 2 for d in blas())
        Engine(ae, blas_threads=None)
        assert all(d["num_threads"] == (2 if (os.cpu_count() or 1) > 1 else 1) for d in blas())  # None: left alone
        Engine(ae)  # blas_threads=1 by default
        assert [d["num_threads"] for d in blas()] == [1] * len(blas())
        # NumPy's own wheel bundles its OpenBLAS under numpy.libs; other builds link a system BLAS, counted above
        assert all(d["num_threads"] == 1 for d in blas() if "numpy" in d["filepath"])


def test_params_are_an_immutable_snapshot(ae):
    e = Engine(ae)
    z = np.array(Z_A)
    e.set_z(z)
    snap = e.params
    z[0] = 0.99  # the caller's array is copied
    assert snap.z[0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="read-only"):  # NumPy refuses to write a read-only array
        snap.z[0] = 0.5
    e.set_volume(0.5)
    assert e.params is not snap and snap.volume == 0.8


def test_callback_returns_float32_bytes_and_counts_underruns(ae):
    e = make(ae)
    data, flag = e.callback(None, 512, {}, 0)
    assert flag == PA_CONTINUE and len(data) == 4 * 512
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), make(ae).process(512))
    assert e.underruns == 0 and e.cpu_load > 0
    e.callback(None, 512, {}, PA_OUTPUT_UNDERFLOW)
    assert e.underruns == 1

    def broken(n):
        raise RuntimeError("boom")

    e.process = broken
    data, flag = e.callback(None, 300, {}, 0)
    assert flag == PA_CONTINUE and data == bytes(4 * 300)  # silence
    assert e.underruns == 2 and "boom" in e.last_error


def test_recording_collects_blocks_and_writes_on_stop(ae, tmp_path):
    e = make(ae)
    path = tmp_path / "take.wav"
    assert e.stop_recording() is None
    e.start_recording(path)
    for _ in range(10):
        e.callback(None, 512, {}, 0)
    assert e.recording and not path.exists()  # nothing is written by the callback
    assert e.stop_recording() == path
    info = sf.info(str(path))
    assert info.samplerate == 44100 and info.frames == 5120 and info.channels == 1
    played = make(ae).process(5120)
    np.testing.assert_allclose(sf.read(str(path), dtype="float32")[0], played, atol=1.5 / 32768)  # as played: no fades
    e.callback(None, 512, {}, 0)  # not recording any more
    assert sf.info(str(path)).frames == 5120
    with pytest.raises(OutputExistsError, match="exists"):
        e.start_recording(path)
    e.start_recording(path, force=True)
    e.callback(None, 256, {}, 0)
    e.stop_recording()
    assert sf.info(str(path)).frames == 256


def test_engine_imports_no_heavy_libraries():
    code = ("import sys, manne.synth.engine, manne.synth.stream; "
            "bad = [m for m in ('tensorflow', 'keras', 'pyaudio', 'tkinter', 'matplotlib') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
