"""Protecting the people in a recording: faces blurred before a frame is shown or written,
snapshots (blurred unless a reviewer chose otherwise, and logged), and removing a recording's
data when its keep-until date has passed."""
