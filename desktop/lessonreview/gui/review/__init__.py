"""The review queue and the decision on the segment under review, keyboard first: the keys,
the draft a reviewer edits, adding a missed label, and how a failed decision is shown."""
