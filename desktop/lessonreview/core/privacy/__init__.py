"""Protecting the people in a recording: faces blurred before a frame is shown or written,
snapshots (blurred unless a reviewer chose otherwise, and logged), removing a recording's
data when its keep-until date has passed, and the consent check of the command line (no
analysis without a consent record)."""
