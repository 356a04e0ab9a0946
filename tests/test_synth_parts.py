"""The instrument's parts on the tiny model: the decoder against a plain one, the limiter, the
callback, recording, automation files, the latent-range check and the BLAS thread limit."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from manne.errors import OutputExistsError, ParameterError
from manne.model.forward import Autoencoder
from manne.synth.automation import read_automation
from manne.synth.callback import PA_CONTINUE, PA_OUTPUT_UNDERFLOW
from manne.synth.instrument import Synth
from manne.synth.limiter import soft_limit
from manne.synth.limits import LATENT_TOL, check_latent_range
from manne.synth.recorder import EDGE_FADE_S


@pytest.fixture(scope="module")
def ae(tiny_model) -> Autoencoder:
    return Autoencoder.load(tiny_model)


def playing(ae, **kw) -> Synth:
    s = Synth(ae, **kw)
    s.set_z([0.3, 0.6])
    s.note_on(64, 100)
    return s


def slow_decode(ae, z, note):
    """The decoder written out plainly: concatenate the one-hot of the MIDI note's class (and its register
    (note - 60) / 24), act(x @ W + b) layer by layer, then undo the power: max(x, 0) ** (1 / power)."""
    cond = list(np.eye(12)[note % 12]) + ([(note - 60) / 24] if ae.config.uses_register else [])
    x = np.concatenate([np.asarray(z, np.float64), cond]) if ae.config.skip else np.asarray(z, np.float64)
    acts = {"lrelu": lambda v: np.where(v > 0, v, ae.config.alpha * v), "relu": lambda v: np.maximum(v, 0),
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "linear": lambda v: v}
    for layer in ae.decoder:
        x = acts[layer.act](x @ layer.W.astype(np.float64) + layer.b)
    return np.maximum(x, 0.0) ** (1.0 / ae.config.power)


def test_one_prepared_decoder_matches_a_plain_decoder(ae):
    from manne.model.decoder import Decoder

    dec = Decoder.of(ae)
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 1, (20, ae.latent)).astype(np.float32)
    notes = rng.integers(24, 109, 20)  # MIDI notes: a register-aware decoder hears the octave too
    assert ae.config.uses_register and ae.config.power < 1
    ref = np.stack([slow_decode(ae, z[i], int(notes[i])) for i in range(20)])
    np.testing.assert_allclose(dec.many(z, notes), ref, atol=1e-5)
    assert not np.allclose(dec.many(z, notes % 12 + 60), ref, atol=1e-3)  # the octave changes the spectrum
    np.testing.assert_allclose(dec.many(z[:3], notes[:3]), ref[:3], atol=1e-5)  # the one-row-at-a-time path
    np.testing.assert_allclose(dec.one(z[5], int(notes[5])), ref[5], atol=1e-5)
    np.testing.assert_allclose(ae.decode(z, notes), ref, atol=1e-5)  # the forward pass decodes through it too
    np.testing.assert_allclose(Decoder.of(ae, cols=np.arange(100, 300)).many(z, notes), ref[:, 100:300], atol=1e-5)
    assert dec.Wz.flags.c_contiguous and dec.Wz.dtype == np.float32
    assert all(W.flags.c_contiguous and W.dtype == np.float32 for W, _, _ in dec.layers)


def test_soft_limit_is_smooth_and_never_exceeds_one():
    x = np.linspace(-20, 20, 200001).astype(np.float32)
    y = soft_limit(x.copy())
    assert np.abs(y).max() <= 1.0
    small = np.abs(x) <= 0.5
    np.testing.assert_array_equal(y[small], x[small])  # transparent below the knee
    assert np.all(np.diff(y) >= 0)  # monotonic
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max() * 1.0001  # slope <= 1: no corner, no jump


def test_eight_loud_voices_are_limited_below_full_scale(ae):
    s = Synth(ae, volume=1.0)
    for note in (48, 52, 55, 60, 64, 67, 71, 72):
        s.note_on(note, 127)
    y = s.render(1.0)
    assert 0.5 < np.abs(y).max() <= 1.0


def test_callback_returns_float32_bytes_and_counts_underruns(ae):
    s = playing(ae)
    data, flag = s.callback(None, 512, {}, 0)
    assert flag == PA_CONTINUE and len(data) == 4 * 512
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), playing(ae).process(512))
    assert s.underruns == 0 and s.cpu_load > 0
    s.callback(None, 512, {}, PA_OUTPUT_UNDERFLOW)
    assert s.underruns == 1 and s.quiet_underruns == 0  # a note sounds: a dropout
    quiet = Synth(ae)
    quiet.callback(None, 512, {}, PA_OUTPUT_UNDERFLOW)  # nothing sounds (a stream's start): not a dropout
    assert quiet.underruns == 0 and quiet.quiet_underruns == 1
    paused = playing(ae)  # a held note, paused: faded to silence, as before a stream stops and starts again
    paused.fade_out()
    paused.process(4096)
    paused.fade_in()
    paused.callback(None, 256, {}, PA_OUTPUT_UNDERFLOW)
    assert paused.underruns == 0 and paused.quiet_underruns == 1

    def broken(n):
        raise RuntimeError("boom")

    s.process = broken
    data, flag = s.callback(None, 300, {}, 0)
    assert flag == PA_CONTINUE and data == bytes(4 * 300)  # silence
    assert s.underruns == 2 and "boom" in s.last_error


def test_still_controls_decode_nothing(ae):
    s = playing(ae)
    s.process(4096)
    n = s.decodes
    s.process(44100)
    assert s.decodes == n  # nothing moved: the harmonics are reused
    s.set_z([0.9, 0.1])
    s.process(1024)
    assert s.decodes == n + 1


def test_recording_collects_blocks_and_writes_on_stop_with_faded_ends(ae, tmp_path):
    s = playing(ae)
    path = tmp_path / "take.wav"
    assert s.stop_recording() is None
    s.start_recording(path)
    for _ in range(10):
        s.callback(None, 512, {}, 0)
    assert s.recording and not path.exists()  # nothing is written by the callback
    assert s.stop_recording() == path
    y, sr = sf.read(str(path), dtype="float32")
    assert sr == 44100 and len(y) == 5120
    played = playing(ae).process(5120)
    n = int(EDGE_FADE_S * sr)
    np.testing.assert_allclose(y[n:-n], played[n:-n], atol=1.5 / 32768)  # as played ...
    assert abs(y[0]) < 1e-4 and abs(y[-1]) < 2e-3 * max(1e-3, np.abs(played).max()) / 1e-3  # ... faded at both ends
    s.callback(None, 512, {}, 0)  # not recording any more
    assert sf.info(str(path)).frames == 5120
    with pytest.raises(OutputExistsError, match="exists"):
        s.start_recording(path)
    s.start_recording(path, force=True)
    s.callback(None, 256, {}, 0)
    s.stop_recording()
    assert sf.info(str(path)).frames == 256


@pytest.mark.parametrize("content, match", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", r"auto.csv: the automation file is not CSV text"),
    ("0,0.5,0.5,C\n1,0.5,0.5,\u00e9\n".encode("latin-1"), r"auto.csv: the automation file is not CSV text"),
    (b"", r"auto.csv: the automation is empty"),
    (b"0,0.5,0.5,C\n1,0.5,1.5,C\n",
     r"auto.csv: row 2 \(1, 0.5, 1.5, C\): sliders: z2=1.5 is outside the model's latent range \[0, 1\]"),
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


def test_blas_runs_on_one_thread_once_a_synth_is_built(ae):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import os

    def blas():
        return [d for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # undone on exit: other tests keep their BLAS
        assert blas(), "NumPy's BLAS is not visible to threadpoolctl"
        if (os.cpu_count() or 1) > 1:
            assert all(d["num_threads"] == 2 for d in blas())
        Synth(ae, blas_threads=None)
        assert all(d["num_threads"] == (2 if (os.cpu_count() or 1) > 1 else 1) for d in blas())  # None: left alone
        Synth(ae)  # blas_threads=1 by default
        assert [d["num_threads"] for d in blas()] == [1] * len(blas())
        # NumPy's own wheel bundles its OpenBLAS under numpy.libs; other builds link a system BLAS, counted above
        assert all(d["num_threads"] == 1 for d in blas() if "numpy" in d["filepath"])




def test_the_ring_reads_back_what_was_written_across_its_wrap():
    """manne.synth.ring.Ring, the tap's and the live transfer's one wrap-around copy, against a flat array."""
    from manne.synth.ring import Ring

    rng = np.random.default_rng(0)
    ring, flat, pos = Ring(100), np.zeros(0, dtype=np.float32), 0
    for _ in range(60):
        y = rng.standard_normal(int(rng.integers(0, 101))).astype(np.float32)
        ring.write(pos, y)
        flat, pos = np.concatenate([flat, y]), pos + len(y)
        n = int(rng.integers(0, min(pos, 100) + 1))
        start = pos - n - int(rng.integers(0, min(pos, 100) - n + 1))  # any stretch of the last 100 samples
        out = np.full(n, np.nan, dtype=np.float32)
        assert ring.read(start, out) is out
        assert np.array_equal(out, flat[start : start + n])
    ring.clear()
    assert not ring.read(pos - 100, np.empty(100, dtype=np.float32)).any()
