"""Network parts shared by every model of drywet: FiLM conditioning, a TCN and a Wave-U-Net that
model effects, audio encoders, spec-sized heads, and the log-frequency front end.

* :class:`TCN`: dilated 1-D convolutions without padding ("valid"), FiLM from the normalized
  parameters after each convolution, PReLU, a residual path centre-cropped (or end-cropped when
  causal) to the convolution's output, and skip connections summed into the output layer;
  after Steinmetz & Reiss' TCN used in the seed thesis and in DeepAFx-ST's proxies.
  ``output="gain"`` is the variant of Peladeau & Peeters (ICASSP 2024): the network predicts
  a gain g[n] through a sigmoid (mapped to a dB range) that multiplies the input, instead of
  the output samples, which suits gain-only effects (compressors, gates, tremolo).
* :class:`WaveUNet`: Demucs-style encoder/decoder (strided conv + GLU down, transposed conv up,
  U-Net skips) with FiLM in every encoder and decoder block, for comparison.

Both map (batch, 1, samples) and q (batch, P) to (batch, 1, samples - receptive_field + 1)
(TCN, valid) or (batch, 1, samples) (Wave-U-Net); :func:`run_padded` gives same-length output.
"""

from .encoders import ENCODERS
from .film import FiLM, conditioning_mlp
from .heads import AnalysisNetwork, Head
from .outputs import run_padded
from .tcn import TCN
from .wave_unet import WaveUNet

NETWORKS = {"tcn": TCN, "wave_unet": WaveUNet}  # waveform networks by the name weights store

__all__ = ["ENCODERS", "NETWORKS", "TCN", "AnalysisNetwork", "FiLM", "Head", "WaveUNet", "conditioning_mlp", "run_padded"]
