"""The window: the application start, the main window that assembles the player, timeline,
review panel and dialogs and wires menus to the core, the start screen, the files a recording
is opened from, and the window's analysis and privacy controllers. It opens and closes
things; it does not decide."""
