"""The teacher's reflection on a lesson: a summary built only from reviewed labels (how
often hands went up and when, standing and heads down over time, where in the picture
raised hands came from, how much of the lesson is reviewed), a blurred still of the room,
and the one-page report that carries them.

Never a ranking or a score of anyone: the figures are counts over the whole room, and
people appear only as unnamed dots on the room map."""
