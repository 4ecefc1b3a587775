"""Neural models of effects: differentiable proxies of black boxes, the thesis' augmentations,
their evaluation, and models of real devices fitted from paired recordings."""
