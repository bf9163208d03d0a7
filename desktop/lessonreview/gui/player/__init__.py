"""The video player: one worker thread owns the decoder and blurs faces, the GUI thread
shows frames with each person's box, pseudonym, skeleton and behaviour tags."""
