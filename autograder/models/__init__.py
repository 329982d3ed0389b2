"""Math shared by several assignments.

- :mod:`.shallow` -- the shallow narrow network y = w1·w2·x (01 and 02): forward, loss, gradient, training.
- :mod:`.shallow_mistakes` -- its typical wrong forward passes and gradients.
"""
