"""The effect library. ``drywet.registry`` collects every ``EFFECTS`` tuple below."""
