"""The models and what they see in one frame: where model files come from and what can be
wrong with them (and keeping the native runtimes offline), person detection, body pose, and
the head-crop cue. Knows nothing of time, tracks or labels."""
