import json

import numpy as np
import pytest

from drywet import io
from drywet.chain import Chain
from drywet.cli import main


@pytest.fixture
def wav(tmp_path, music):
    x, sr = music
    return io.write_audio(tmp_path / "in.wav", x, sample_rate=sr)


def test_effects_table_and_json(capsys):
    assert main(["effects"]) == 0
    assert "compressor" in capsys.readouterr().out
    assert main(["effects", "--json"]) == 0
    specs = json.loads(capsys.readouterr().out)
    comp = next(s for s in specs if s["name"] == "compressor")
    assert [p["name"] for p in comp["params"]][:2] == ["threshold_db", "ratio"]


def test_apply_with_generated_flags_matches_the_api(tmp_path, wav, capsys):
    out = tmp_path / "out.wav"
    assert main(["apply", str(wav), str(out), "--effect", "compressor", "--threshold-db", "-20", "--ratio", "4"]) == 0
    x, sr = io.read_audio(wav)
    y, _ = io.read_audio(out)
    from drywet import get_effect

    ref = get_effect("compressor")(x, sample_rate=sr, threshold_db=-20.0, ratio=4.0)
    assert np.max(np.abs(y - ref)) < 1e-6


def test_apply_takes_curves_for_curve_parameters(tmp_path, wav, capsys):
    out = tmp_path / "sweep.wav"
    assert main(["apply", str(wav), str(out), "--effect", "lowpass", "--freq-hz", "300,8000,300", "--q", "2"]) == 0
    x, sr = io.read_audio(wav)
    from drywet import get_effect

    ref = get_effect("lowpass")(x, sample_rate=sr, freq_hz=np.array([300.0, 8000.0, 300.0]), q=2.0)
    assert np.max(np.abs(io.read_audio(out)[0] - ref)) < 1e-6
    assert main(["apply", str(wav), str(tmp_path / "o.wav"), "--effect", "lowpass", "--freq-hz", "300,80000"]) == 2
    assert "out of range" in capsys.readouterr().err and not (tmp_path / "o.wav").exists()
    with pytest.raises(SystemExit):  # argparse: the compressor's ratio takes no curve
        main(["apply", str(wav), str(tmp_path / "o.wav"), "--effect", "compressor", "--ratio", "2,4"])


def test_apply_with_preset_from_random_chain(tmp_path, wav, capsys):
    preset = tmp_path / "p.yaml"
    assert main(["random-chain", "--effects", "eq,compressor,clipper", "--seed", "3", "-o", str(preset)]) == 0
    out = tmp_path / "out.flac"
    assert main(["apply", str(wav), str(out), "--preset", str(preset), "--normalize"]) == 0
    chain = Chain.load(preset)
    assert chain == Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(3))


@pytest.mark.parametrize(
    "args, message",
    [
        (["apply", "IN", "OUT", "--effect", "compressor", "--threshold-db", "-60"], "out of range"),
        (["apply", "IN", "OUT", "--effect", "compressor", "--tresh", "1"], "has no flag"),
        (["apply", "IN", "OUT", "--effect", "nope"], "unknown effect"),
        (["apply", "IN", "OUT"], "either --preset"),
        (["apply", "missing.wav", "OUT", "--effect", "gain"], "not found"),
        (["random-chain", "--effects", "eq,unknown", "-o", "P.yaml"], "unknown effect"),
    ],
)
def test_errors_go_to_stderr_with_exit_2(tmp_path, wav, capsys, args, message):
    args = [str(wav) if a == "IN" else str(tmp_path / "o.wav") if a == "OUT" else str(tmp_path / a) if a == "P.yaml" else a for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_apply_refuses_to_overwrite(tmp_path, wav, capsys):
    out = tmp_path / "o.wav"
    out.write_bytes(b"keep me")
    assert main(["apply", str(wav), str(out), "--effect", "gain"]) == 2
    assert out.read_bytes() == b"keep me"
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["match", "--dry", "{wav}", "--wet", "{wav}", "-o", "{out}"],
    ["estimate", "{wav}", "-o", "{out}"],
    ["invert", "{wav}", "-o", "{out}", "--estimate"],
    ["declip", "{wav}", "-o", "{out}"],
    ["model", "apply", "{missing}", "{wav}", "-o", "{out}"],
])
def test_long_commands_refuse_an_existing_output_before_the_work(tmp_path, wav, capsys, command):
    """An existing output is refused first: the missing model file is never even opened, and
    nothing is estimated or inverted."""
    out = tmp_path / "existing.yaml"
    out.write_bytes(b"keep me")
    args = [a.format(wav=wav, out=out, missing=tmp_path / "no_model.safetensors") for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "exists; pass --overwrite" in err and "no_model" not in err
    assert out.read_bytes() == b"keep me"


def test_metrics_command(tmp_path, wav, capsys):
    assert main(["metrics", str(wav), str(wav), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["mae"] == 0.0 and table["si_sdr_db"] > 60


def test_demo_writes_audio_preset_and_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--effects", "eq,compressor,clipper", "--no-estimate"]) == 0
    for name in ("dry.wav", "wet.wav", "restored.wav", "chain.yaml", "report.html"):
        assert (out / name).is_file()
    html = (out / "report.html").read_text()
    for needle in ("<audio", "threshold_db", "dB", "static curve", "magnitude", "transfer curve", "data:image/png", "restored: si_sdr_db"):
        assert needle in html
    restored_sdr = float(html.split("restored: si_sdr_db</td><td>")[1].split("<")[0])
    wet_sdr = float(html.split("wet: si_sdr_db</td><td>")[1].split("<")[0])
    assert restored_sdr > wet_sdr + 10.0, "inverting with the true chain must get much closer to dry"
    dry, sr = io.read_audio(out / "dry.wav")
    wet, _ = io.read_audio(out / "wet.wav")
    chain = Chain.load(out / "chain.yaml")
    ref = chain(dry, sample_rate=sr)
    peak = np.abs(ref).max()
    if peak > 1:
        ref = ref * (10 ** (-1 / 20) / peak)
    assert np.max(np.abs(wet - ref)) < 1e-4
    assert main(["demo", "-o", str(out)]) == 2  # no silent overwrite


def test_effect_help_lists_flags_from_the_spec(capsys):
    assert main(["apply", "--effect", "compressor", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--threshold-db", "--ratio", "--attack-ms", "--release-ms", "--knee-db", "--makeup-db"):
        assert flag in out
    assert "-40..0" in out  # the range comes from the spec


def test_demo_estimates_blind_and_informed_and_restores(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out)]) == 0
    for name in ("blind_resynthesis.wav", "restored_blind.wav", "informed_resynthesis.wav"):
        assert (out / name).is_file()
    html = (out / "report.html").read_text()
    assert "True and estimated parameters" in html and "blind estimate" in html and "informed estimate" in html
    assert "blind estimate for inversion" in html  # drywet invert --estimate's weights restore it
    value = lambda key: float(html.split(key + "</td><td>")[1].split("<")[0])  # noqa: E731
    assert value("informed re-synthesis vs wet: logmel_l1") < value("wet: logmel_l1"), "the informed estimate explains the wet"


def test_output_into_a_closed_pipe_ends_quietly():
    """`drywet effects --json | head -1`: no BrokenPipeError traceback, exit status 0."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "drywet.cli", "effects", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import os

    os.read(proc.stdout.fileno(), 1)  # one byte: the rest of the table (over 64 KiB) fills the pipe
    proc.stdout.close()  # and the reader stops
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err, err
