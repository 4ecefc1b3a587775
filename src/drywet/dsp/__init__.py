"""Low-level DSP kernels shared by the effects (numpy and torch)."""
