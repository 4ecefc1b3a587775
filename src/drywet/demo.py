"""``drywet demo``: render a random chain on the bundled clip and write a report."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from . import io, metrics
from .chain import Chain
from .errors import DrywetError
from .invert import InversionWarning
from .pipelines import restore
from .report import comparison_table, write_report

DEFAULT_EFFECTS = "parametric_eq,compressor,clipper"  # the chain the bundled blind estimator knows


def run_demo(out_dir: str | Path = "drywet_demo", *, seed: int = 0, effects: str = DEFAULT_EFFECTS, overwrite: bool = False,
             estimate: bool = True) -> dict:
    """Simulate a random chain on the bundled Brahms clip, estimate it back (blind from the
    wet audio alone when the bundled estimator knows the chain, and informed from the
    dry/wet pair), and undo it (with the true and the blindly estimated parameters).

    Writes dry.wav, wet.wav, restored.wav (and the estimates' re-syntheses and restorations),
    chain.yaml and report.html to ``out_dir`` and returns their paths.
    """
    out = Path(out_dir)
    files = {name: out / name for name in ("dry.wav", "wet.wav", "restored.wav", "chain.yaml", "report.html")}
    existing = [str(p) for p in files.values() if p.exists()]
    if existing and not overwrite:
        raise DrywetError(f"{out} already holds demo output ({', '.join(existing)}); pass --overwrite or another --out")
    dry, sr = io.bundled_example()
    rng = np.random.default_rng(seed)
    chain = Chain.from_names(effects).sample(rng)
    wet = chain(dry, sample_rate=sr)
    notes = []
    with warnings.catch_warnings(record=True) as caught:  # the report lists them
        warnings.simplefilter("always", InversionWarning)
        restored = restore(wet, sample_rate=sr, chain=chain).audio
    signals = [("dry", dry, "dry.wav"), ("wet", wet, "wet.wav"), ("restored (true parameters)", restored, "restored.wav")]
    chains = {"true": chain}
    table = {f"wet: {k}": v for k, v in metrics.compute_all(dry, wet, sample_rate=sr).items()}
    table |= {f"restored: {k}": v for k, v in metrics.compute_all(dry, restored, sample_rate=sr).items()}
    if estimate:
        chains |= _estimates(chain, dry, wet, sr, signals, table, notes, files, out)
    peak = float(np.abs(wet).max())
    if peak > 1.0:  # keep the wet file playable without clipping; the report says so
        notes.append(f"The wet signal peaked at {20 * np.log10(peak):+.1f} dBFS and was scaled to -1 dBFS for playback.")
    io.write_audio(files["dry.wav"], dry, sample_rate=sr, overwrite=True)
    io.write_audio(files["wet.wav"], wet, sample_rate=sr, overwrite=True, normalize=True)
    for _, audio, name in signals[2:]:
        io.write_audio(out / name, audio, sample_rate=sr, overwrite=True, normalize=True)
    chain.save(files["chain.yaml"], overwrite=True)
    note = f"Bundled clip: Brahms, Hungarian Dance No. 5 (public domain). Random chain, seed {seed}. "
    note += (
        "'restored' undoes the chain last stage first (drywet invert); metrics compare wet, restored "
        "and the estimates' re-syntheses with dry (restorations) or wet (re-syntheses). "
    )
    note += " ".join(notes)
    if caught:
        note += " Inversion notes: " + "; ".join(str(w.message) for w in caught) + "."
    if len(chains) > 1:
        note += "<h2>True and estimated parameters</h2>" + comparison_table(chains)
    write_report(
        files["report.html"],
        title="drywet demo: dry -> wet -> estimated -> restored",
        chain=chain,
        sample_rate=sr,
        signals=signals,
        metrics=table,
        notes=note,
    )
    return {k: str(v) for k, v in files.items()} | {"chain": chain}


def _estimates(chain, dry, wet, sr, signals, table, notes, files, out) -> dict:
    """Blind and informed estimates of ``chain``; adds their audio, metrics and notes."""
    from .estimate import match_chain
    from .estimate.blind import SETTINGS, bundled_estimator

    found = {}
    names = ",".join(s.effect.name for s in chain.stages)
    setting = next((k for k, v in SETTINGS.items() if v == names), None)
    if setting is not None:
        blind = bundled_estimator(setting).estimate(wet, sample_rate=sr)
        found["blind estimate"] = blind
        resynth = blind(dry, sample_rate=sr)
        with warnings.catch_warnings():  # what drywet invert --estimate does
            warnings.simplefilter("ignore", InversionWarning)
            blind_restoration = restore(wet, sample_rate=sr, estimate=setting)
        restored, to_invert = blind_restoration.audio, blind_restoration.chain
        if to_invert.to_q().tolist() != blind.to_q().tolist():
            found["blind estimate for inversion"] = to_invert
            notes.append("'restored (blind parameters)' inverts the blind estimate for inversion: weights tuned to "
                         "undo each stage, where the blind estimate's re-synthesize the wet best.")
        signals += [("blind re-synthesis", resynth, "blind_resynthesis.wav"), ("restored (blind parameters)", restored, "restored_blind.wav")]
        table["blind re-synthesis vs wet: logmel_l1"] = metrics.compute_all(wet, resynth, sample_rate=sr)["logmel_l1"]
        table["restored (blind) vs dry: logmel_l1"] = metrics.compute_all(dry, restored, sample_rate=sr)["logmel_l1"]
    else:
        notes.append(f"No bundled blind estimator for {names}; blind estimation skipped.")
    informed = match_chain(dry, wet, sample_rate=sr, effects=names, restarts=2, steps=100, seed=0).chain
    found["informed estimate (match)"] = informed
    resynth = informed(dry, sample_rate=sr)
    signals.append(("informed re-synthesis", resynth, "informed_resynthesis.wav"))
    table["informed re-synthesis vs wet: logmel_l1"] = metrics.compute_all(wet, resynth, sample_rate=sr)["logmel_l1"]
    return found
