"""The review queue and the decision on the segment under review, keyboard first: the keys,
the draft a reviewer edits, adding a missed label, picking a person, and how a failed
decision is shown."""
