"""From a recording to proposals, in memory: the pipeline (decode, detect, pose), tracking
people across samples, per-sample posture, and the behaviour rules that turn posture over
time into segments. Writes nothing unless a caller asks (a proposals file, from the CLI)."""
