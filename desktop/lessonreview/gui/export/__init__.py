"""Files in and out of the project: writing reviewed labels (in every exchange format) and
the decision log, asking where and saying what is and is not exported; reading another
program's coding (ELAN, BORIS) in as a coder's labels."""
