"""Recordings: opening a video or still, its frame index from the stream's own timestamps,
decoding exactly the frame asked for, and the one module that converts frames <-> seconds
(``timebase``). Knows nothing of people or labels."""
