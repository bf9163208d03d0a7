"""Running the core analysis off the GUI thread, with progress and cancel; results come back
on the GUI thread."""
