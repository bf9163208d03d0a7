"""The teacher's reflection in the window: the lesson summary's plots over time and the
room map (pyqtgraph), drawn from the core's summary of reviewed labels, with clicks that
seek the player; and saving the one-page report."""
