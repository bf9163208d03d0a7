"""Writing reviewed labels and the decision log to files: asking where, saying what is and is
not exported, and calling the core export."""
