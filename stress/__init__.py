"""The stress suite: a real daemon subprocess on loopback, attacked the ways a stage rig might
(fuzzed and flooded OSC, bursts, show-switch storms, broken bundles, a long soak, a lost sound
card), one line of figures per scenario. `python -m latentvj.stress --help`."""
