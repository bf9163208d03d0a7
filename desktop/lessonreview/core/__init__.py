"""Everything that works without a screen: no Qt or pyqtgraph import anywhere below here.

Layers, from the bottom up (``tests/test_layering.py`` checks who may import whom):

- ``domain``: the words of the domain as types (behaviour, box, observation, person,
  segment), shared by every layer.
- ``media``: recordings, their frame index, decoding, and the one frames <-> seconds timebase.
- ``vision``: the models: finding them, person detection, pose, the head crop cue.
- ``store``: the files Lesson Review writes: the project (SQLite), proposals files, exports,
  settings; atomic and owner-only.
- ``analysis``: from a recording to proposals: the pipeline, tracking, posture and behaviour rules.
- ``review``: one reviewer deciding proposals: pending proposals, decisions, undo.
- ``privacy``: face blur, snapshots, keep-until dates.
"""
